from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "muster.portal"
    label = "portal"
