from django.apps import AppConfig


class TisketConfig(AppConfig):
    name = "tisket"
    verbose_name = "Tisket core"
