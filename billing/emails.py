"""Billing e-mails. What a learner hears about their own subscription and payments goes through the
notifications outbox (notifications.api) as a required kind: written in the same transaction as the change,
sent after the commit, at most once per event key, with a plain-text part, an HTML part, the site's name, and
no unsubscribe link (a learner must hear what they pay for and what they can open). Staff alerts go to
addresses that need not be accounts, so they stay plain Django mail."""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import linebreaks, urlize

from courses import api as courses
from notifications import api as notifications

LEARNER_KIND = "billing.account"


def register_kinds() -> None:
    notifications.register_kind(
        LEARNER_KIND,
        label="Your subscription, payments and access",
        description="Trial, charges, refunds, cancellation and what stays open to you.",
        required=True,
    )


def _context(context: dict) -> dict:
    return {"site_url": settings.SITE_URL.rstrip("/"), "site_name": settings.SITE_NAME, **context}


def notify_learner(*, user, template: str, event_key: str, context: dict) -> None:
    """E-mail (and notify in the site) one learner about one billing event, in the caller's transaction.
    `event_key` names the event within the template ("sub_123", "in_456:evt_789"): the same event told twice
    is sent once (webhook redeliveries, replays)."""
    if user is None:
        return
    context = _context({"user": user, "billing_url": billing_url(), **context})
    subject = " ".join(render_to_string(f"billing/email/{template}_subject.txt", context).split())
    text = render_to_string(f"billing/email/{template}.txt", context).strip()
    notifications.notify(
        event_key=f"billing.{template}:{event_key}",
        kind=LEARNER_KIND,
        recipient_ids=[user.pk],
        title=subject,
        body=text,
        url=reverse("billing:overview"),
        email_subject=subject,
        email_text=text,
        email_html=linebreaks(urlize(text, autoescape=True), autoescape=False),
    )


def send(*, template: str, to: list[str], context: dict) -> None:
    """Plain mail to staff addresses."""
    if not to:
        return
    context = _context(context)
    subject = render_to_string(f"billing/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"billing/email/{template}.txt", context)
    send_mail(f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", body, settings.DEFAULT_FROM_EMAIL, to)


def billing_url() -> str:
    """The learner's billing page, as a full URL for an e-mail."""
    return settings.SITE_URL.rstrip("/") + reverse("billing:overview")


def staff_recipients() -> list[str]:
    """Who hears about what needs a person (disputes, events we gave up on): BILLING_STAFF_EMAILS, or
    every active staff account."""
    return settings.BILLING_STAFF_EMAILS or list(
        get_user_model().objects.filter(is_staff=True, is_active=True).values_list("email", flat=True)
    )


@dataclasses.dataclass(frozen=True)
class KeptCourse:
    title: str
    url: str


def completed_courses(*, user) -> list[KeptCourse]:
    """The courses the learner completed, which stay open after a subscription ends (the access policy's
    rule for ended subscriptions; the e-mails only name them)."""
    site = settings.SITE_URL.rstrip("/")
    kept = []
    for completion in courses.completions_of(user_id=user.pk):
        facts = courses.course_facts(course_id=completion.course_id)
        kept.append(KeptCourse(title=facts.title, url=site + reverse("courses:course", args=[facts.slug])))
    return kept
