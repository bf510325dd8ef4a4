from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "muster.office"
    label = "office"
