"""Billing e-mails: plain text from templates under billing/templates/billing/email/, through Django's mail."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string


def send(*, template: str, to: list[str], context: dict) -> None:
    if not to:
        return
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    subject = render_to_string(f"billing/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"billing/email/{template}.txt", context)
    send_mail(f"[Deep Learning] {subject}", body, settings.DEFAULT_FROM_EMAIL, to)
