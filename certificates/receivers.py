"""Completion signals → certificate tasks, queued once the completion is committed."""

from django.db import transaction


def on_course_completed(sender, *, course, user, **kwargs) -> None:
    from .tasks import issue_course_certificate

    transaction.on_commit(lambda: issue_course_certificate.delay(user.pk, course.pk))


def on_specialization_completed(sender, *, specialization, user, **kwargs) -> None:
    from .tasks import issue_specialization_certificate

    transaction.on_commit(lambda: issue_specialization_certificate.delay(user.pk, specialization.pk))
