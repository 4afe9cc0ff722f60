"""Celery tasks: thin wrappers that issue certificates after a completion has been committed."""

from celery import shared_task
from django.contrib.auth import get_user_model

from courses.models import Course, Specialization

from . import services


@shared_task
def issue_course_certificate(user_id: int, course_id: int) -> str | None:
    certificate = services.certificate_issue_for_course(
        user=get_user_model().objects.get(pk=user_id), course=Course.objects.get(pk=course_id)
    )
    return certificate.public_id if certificate else None


@shared_task
def issue_specialization_certificate(user_id: int, specialization_id: int) -> str | None:
    certificate = services.certificate_issue_for_specialization(
        user=get_user_model().objects.get(pk=user_id),
        specialization=Specialization.objects.get(pk=specialization_id),
    )
    return certificate.public_id if certificate else None
