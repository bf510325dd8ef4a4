from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "muster.rules"
    label = "rules"
