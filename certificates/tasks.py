"""Celery tasks: thin wrappers that issue certificates after a completion has been committed."""

from celery import shared_task
from django.contrib.auth import get_user_model

from . import services


@shared_task(acks_late=True)
def issue_course_certificate(user_id: int, course_id: int) -> str | None:
    user = get_user_model().objects.filter(pk=user_id).first()
    certificate = services.certificate_issue_for_course(user=user, course_id=course_id) if user else None
    return certificate.public_id if certificate else None


@shared_task(acks_late=True)
def issue_specialization_certificate(user_id: int, specialization_id: int) -> str | None:
    user = get_user_model().objects.filter(pk=user_id).first()
    certificate = (
        services.certificate_issue_for_specialization(user=user, specialization_id=specialization_id) if user else None
    )
    return certificate.public_id if certificate else None
