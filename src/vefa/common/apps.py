from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "vefa.common"
    label = "common"
    verbose_name = "Common"
