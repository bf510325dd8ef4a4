from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "muster.measures"
    label = "measures"
