from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "muster.documents"
    label = "documents"
