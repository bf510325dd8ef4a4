from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "muster.feeds"
    label = "feeds"
