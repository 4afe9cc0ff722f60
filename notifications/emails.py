"""What the e-mails say and look like. Content is rendered when the outbox row is written (so sending is
only sending); headers that follow from the row (Message-ID, List-Unsubscribe) are added at send time."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from .registry import Kind, kind_or_none
from .tokens import unsubscribe_url, unsubscribe_urls

SUBJECT_MAX = 200


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str  # "" for a plain-text-only e-mail


@dataclass(frozen=True)
class DigestLine:
    title: str
    body: str
    kind_label: str
    created_at: datetime.datetime
    link: str


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def absolute(path: str) -> str:
    return site_url() + path if path else ""


def subject_line(text: str) -> str:
    """The site's prefix and one line of text: a newline in a Subject header is refused by Django's mail."""
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "[Deep Learning] ")
    one_line = " ".join(text.split())
    if len(one_line) > SUBJECT_MAX:
        one_line = one_line[: SUBJECT_MAX - 1].rstrip() + "…"
    return prefix + one_line


def _mail_domain() -> str:
    host = urlsplit("//" + settings.SITE_DOMAIN).hostname or "localhost"
    return host if "." in host and not host.replace(".", "").isdigit() else "localhost"


def message_id_new() -> str:
    """A Message-ID fixed when the outbox row is written, so every attempt at sending the row carries the
    same one and a duplicate after a crash is recognisable (docs/decisions/0001-outbox.md)."""
    return f"<notification.{uuid.uuid4().hex}@{_mail_domain()}>"


def _footer_context(*, user_id: int, unsubscribe_kind: str, required: bool = False) -> dict:
    return {
        "site_name": settings.SITE_NAME,
        "site_url": site_url(),
        "preferences_url": absolute(reverse("notifications:preferences")),
        "unsubscribe_url": "" if required else unsubscribe_url(user_id=user_id, kind=unsubscribe_kind),
    }


# Stand-ins for what differs between recipients of one event, filled in after a single render.
_NAME = "\x00recipient-name\x00"
_UNSUBSCRIBE = "\x00unsubscribe-url\x00"


def render_notifications(
    *,
    recipients: list[tuple[int, str]],
    kind: Kind,
    title: str,
    body: str,
    url: str,
    email_subject: str | None,
    email_text: str | None,
    email_html: str | None,
) -> dict[int, RenderedEmail]:
    """One event's e-mail for each (user id, name): rendered once, then each recipient's name and unsubscribe
    link filled in. A render costs about half a millisecond, and a fan-out happens inside the caller's
    transaction, so a thread with a thousand followers must not render a thousand times."""
    context = {
        **_footer_context(user_id=0, unsubscribe_kind=kind.key, required=kind.required),
        "unsubscribe_url": "" if kind.required else _UNSUBSCRIBE,
        "user_name": _NAME,
        "kind": kind,
        "title": title,
        "body": body,
        "text": email_text if email_text is not None else "\n\n".join(part for part in (title, body) if part),
        "html": email_html or "",
        "link": absolute(url),
    }
    subject = subject_line(email_subject or title)
    text = render_to_string("notifications/email/notification.txt", context)
    html = render_to_string("notifications/email/notification.html", context) if email_html else ""
    ids = [user_id for user_id, _ in recipients]
    links = dict.fromkeys(ids, "") if kind.required else unsubscribe_urls(user_ids=ids, kind=kind.key)
    rendered = {}
    for user_id, user_name in recipients:
        link = links[user_id]
        rendered[user_id] = RenderedEmail(
            subject=subject,
            text=text.replace(_NAME, user_name).replace(_UNSUBSCRIBE, link),
            html=html.replace(_NAME, escape(user_name)).replace(_UNSUBSCRIBE, escape(link)),
        )
    return rendered


def render_digest(*, user_id: int, user_name: str, date: datetime.date, lines: list[DigestLine]) -> RenderedEmail:
    count = len(lines)
    context = {
        **_footer_context(user_id=user_id, unsubscribe_kind="digest"),
        "user_name": user_name,
        "date": date,
        "lines": lines,
        "count": count,
        "list_url": absolute(reverse("notifications:list")),
    }
    noun = "notification" if count == 1 else "notifications"
    return RenderedEmail(
        subject=subject_line(f"Your daily digest: {count} new {noun}"),
        text=render_to_string("notifications/email/digest.txt", context),
        html=render_to_string("notifications/email/digest.html", context),
    )


def build_message(
    *, subject: str, text: str, html: str, to_email: str, message_id: str, user_id: int, kind: str, connection=None
) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": message_id,
        # RFC 3834: no auto-replies (vacation messages) to these.
        "Auto-Submitted": "auto-generated",
    }
    known = kind_or_none(kind)
    if known is None or not known.required:  # account e-mails cannot be turned off: no button for it
        link = unsubscribe_url(user_id=user_id, kind=kind)
        # RFC 8058: mail clients show an "Unsubscribe" button that POSTs to the link.
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to_email],
        connection=connection,
        headers=headers,
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message
