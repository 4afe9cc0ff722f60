from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "Courses"

    def ready(self):
        from notifications import api as notifications

        notifications.register_kind(
            "courses.week_open",
            label="A week of your course opens",
            description="When a week that was still to come opens for you (once per week).",
        )
