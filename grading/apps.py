from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from courses import api as courses

        from . import pack, selectors, views

        courses.register_item_view("assignment", views.assignment_item)
        courses.register_pack_handler("assignment", pack.handler)
        courses.register_passed_checker("assignment", selectors.passed_assignment_item_ids)
