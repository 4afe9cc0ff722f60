from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from courses import registry

        from . import pack, selectors, views

        registry.register_item_view("assignment", views.assignment_item)
        registry.register_pack_handler("assignment", pack.handler)
        registry.register_passed_checker("assignment", selectors.passed_assignment_item_ids)
