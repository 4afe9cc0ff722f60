from django.apps import AppConfig


class RestapiConfig(AppConfig):
    name = "restapi"
    verbose_name = "REST API"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the token authentication with the schema generator)
