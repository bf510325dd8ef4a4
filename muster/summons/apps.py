from django.apps import AppConfig


class SummonsConfig(AppConfig):
    name = "muster.summons"
    label = "summons"
