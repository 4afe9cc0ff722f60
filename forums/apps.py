from django.apps import AppConfig


class ForumsConfig(AppConfig):
    name = "forums"
    verbose_name = "Forums"

    def ready(self) -> None:
        # "Questions about this lecture" under every item page, whichever app renders the item.
        from courses import api as courses

        from . import events, panels

        courses.register_item_panel(panels.item_questions_panel)
        events.register_kinds()
