from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "quizzes"
    verbose_name = "Quizzes"

    def ready(self) -> None:
        # Plug quizzes into courses: how a quiz item is shown, travels in a pack and is passed; how
        # in-video questions (which use the quiz question format) are validated and shown on lectures.
        from courses import api as courses

        from . import pack, questions, selectors, views

        courses.register_item_view("quiz", views.quiz_item)
        courses.register_item_view("lecture", views.lecture_item)
        courses.register_pack_handler(
            "quiz", courses.PackHandler(validate=pack.validate, apply=pack.apply, export=pack.export)
        )
        courses.register_passed_checker("quiz", selectors.passed_item_ids)
        courses.register_question_validator(lambda question: questions.validate_question(question, allow_points=False))
