"""Billing e-mails: plain text from templates under billing/templates/billing/email/, through Django's mail."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse


def send(*, template: str, to: list[str], context: dict) -> None:
    if not to:
        return
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    subject = render_to_string(f"billing/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"billing/email/{template}.txt", context)
    send_mail(f"[Deep Learning] {subject}", body, settings.DEFAULT_FROM_EMAIL, to)


def billing_url() -> str:
    """The learner's billing page, as a full URL for an e-mail."""
    return settings.SITE_URL.rstrip("/") + reverse("billing:overview")


def staff_recipients() -> list[str]:
    """Who hears about what needs a person (disputes, events we gave up on): BILLING_STAFF_EMAILS, or
    every active staff account."""
    return settings.BILLING_STAFF_EMAILS or list(
        get_user_model().objects.filter(is_staff=True, is_active=True).values_list("email", flat=True)
    )
