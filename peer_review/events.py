"""Peer review's notifications, through the notifications app's outbox (the same one the forums use):
in the site at once, by e-mail per each recipient's preference. Nothing here names the other side of
a review: authors hear about "a reviewer", reviewers about "a submission"."""

from __future__ import annotations

import datetime
import math
import zoneinfo

from django.conf import settings
from django.urls import reverse

from accounts import api as accounts
from notifications import api as notifications

from .models import Phase, Review, ReviewStatus, Submission

REMINDER = "peer_review.reminder"
GRADE_READY = "peer_review.grade_ready"
STAFF_ALERT = "peer_review.staff_alert"


def register_kinds() -> None:
    notifications.register_kind(
        REMINDER,
        label="Peer reviews due soon",
        description="A reminder the day before a review deadline while you still owe reviews.",
    )
    notifications.register_kind(
        GRADE_READY,
        label="Peer-review grades",
        description="Your peer-reviewed work has a grade (or a staff decision on it).",
    )
    notifications.register_kind(
        STAFF_ALERT,
        label="Peer-review staff queue",
        description="The staff queue or escalations grew, a grade was disputed or a review flagged.",
        default_email="digest",
        staff_only=True,
    )


def _item_url(assignment) -> str:
    return assignment.item.get_absolute_url()


def grade_ready(*, submission: Submission, first: bool) -> None:
    assignment = submission.assignment
    title = (
        f"Your grade for “{assignment.item.title}” is ready"
        if first
        else f"Your grade for “{assignment.item.title}” changed"
    )
    notifications.notify(
        event_key=f"peer.grade:{submission.pk}:{submission.final_percent}:{submission.method}",
        kind=GRADE_READY,
        recipient_ids=[submission.author_id],
        title=title,
        body=f"{submission.final_percent:g} % (pass mark {assignment.pass_percent} %). "
        "Open the assignment for the scores and comments per criterion.",
        url=_item_url(assignment),
    )


def dispute_resolved(*, dispute) -> None:
    assignment = dispute.assignment
    notifications.notify(
        event_key=f"peer.dispute:{dispute.pk}",
        kind=GRADE_READY,
        recipient_ids=[dispute.author_id],
        title=f"Staff answered your dispute on “{assignment.item.title}”",
        body=dispute.resolution,
        url=_item_url(assignment),
    )


def staff_alert(*, assignment, now: datetime.datetime, force: bool = False) -> int:
    """Tell staff the queue grew: when the first item arrives and again each PEER_REVIEW_STAFF_ALERT_EVERY
    more (never twice for the same step), and at once for a dispute or a flag (`force`)."""
    waiting = Submission.objects.filter(
        assignment=assignment, superseded=False, phase__in=[Phase.STAFF_QUEUE, Phase.ESCALATED]
    ).count()
    if not waiting and not force:
        return 0
    step = math.ceil(waiting / settings.PEER_REVIEW_STAFF_ALERT_EVERY)
    key = f"peer.staff:{assignment.pk}:{now.isoformat()}" if force else f"peer.staff:{assignment.pk}:step{step}"
    return notifications.notify(
        event_key=key,
        kind=STAFF_ALERT,
        recipient_ids=accounts.user_ids_with_roles(staff=True),
        title=f"Peer review “{assignment.item.title}”: {waiting} waiting for staff",
        body="Escalated work, the staff queue, disputes and flags are on the assignment's staff page.",
        url=reverse("peer_review:dashboard", args=[assignment.pk]),
    )


def review_reminders(*, assignment, now: datetime.datetime) -> int:
    """The day before the review deadline: learners who submitted and still owe reviews."""
    deadline = assignment.review_deadline
    if deadline is None or not (now < deadline <= now + datetime.timedelta(days=1)):
        return 0
    authors = set(
        Submission.objects.filter(
            assignment=assignment, superseded=False, is_example=False, gave_all_available=False
        ).values_list("author_id", flat=True)
    )
    done: dict[int, int] = {}
    for reviewer_id in Review.objects.filter(
        assignment=assignment, reviewer_id__in=authors, is_training=False,
        status__in=[ReviewStatus.COMPLETED, ReviewStatus.DISCARDED],
    ).values_list("reviewer_id", flat=True):  # fmt: skip
        done[reviewer_id] = done.get(reviewer_id, 0) + 1
    owing = [a for a in authors if done.get(a, 0) < assignment.reviews_to_give]
    if not owing:
        return 0
    # The deadline in each reader's own time zone, named (one notice per zone, the same event).
    by_zone: dict[str, list[int]] = {}
    for user_id, zone in accounts.time_zones_of(user_ids=owing).items():
        by_zone.setdefault(zone, []).append(user_id)
    sent = 0
    for zone, recipients in sorted(by_zone.items()):
        local = deadline.astimezone(zoneinfo.ZoneInfo(zone))
        sent += notifications.notify(
            event_key=f"peer.reminder:{assignment.pk}:{deadline.isoformat()}",
            kind=REMINDER,
            recipient_ids=recipients,
            title=f"Reviews for “{assignment.item.title}” are due {local:%-d %b, %H:%M} ({zone})",
            body=f"Give {assignment.reviews_to_give} reviews to receive your grade.",
            url=_item_url(assignment),
        )
    return sent
