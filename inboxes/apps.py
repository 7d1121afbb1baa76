from django.apps import AppConfig


class InboxesConfig(AppConfig):
    name = "inboxes"
    verbose_name = "Inboxes"
