"""Complimentary access without a subscription (financial aid, staff, partners), and the financial-aid
applications staff approve (with a grant) or decline. Billing records the grant; the access policy decides
what it opens (it asks billing.api.complimentary_access_of)."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from courses import api as courses

from .. import emails
from ..models import AccessGrant, FinancialAidApplication
from .errors import BillingError

MAX_GRANT_DAYS = 730
TEXT_MIN, TEXT_MAX = 20, 2000


def _course_titles(course_ids: list[int]) -> list[str]:
    known = {course.course_id: course.title for course in courses.courses_all()}
    missing = [course_id for course_id in course_ids if course_id not in known]
    if missing:
        raise BillingError(f"No such course: {', '.join(map(str, missing))}.")
    return [known[course_id] for course_id in course_ids]


def check_grant(*, whole_specialization: bool, course_ids: list[int], until, today: datetime.date) -> list[str]:
    """Validate a grant; returns the titles of what it opens. Raises BillingError with a message for staff."""
    if not whole_specialization and not course_ids:
        raise BillingError("Choose the courses it opens, or the whole specialization.")
    if until is None or until < today:
        raise BillingError("The end date must be today or later.")
    if until > today + datetime.timedelta(days=MAX_GRANT_DAYS):
        raise BillingError(f"A grant lasts at most {MAX_GRANT_DAYS} days; give a nearer end date.")
    if whole_specialization:
        return ["every course of the specialization"]
    return _course_titles(course_ids)


def grant_create(
    *,
    user,
    whole_specialization: bool,
    course_ids: list[int],
    until: datetime.date,
    kind: str,
    reason: str,
    granted_by,
    today: datetime.date | None = None,
) -> AccessGrant:
    """Give a learner complimentary access until a date (inclusive), and tell them what it opens."""
    today = today or timezone.localdate()
    reason = " ".join((reason or "").split())
    if not reason:
        raise BillingError("Give a reason for the grant (it is kept with it).")
    if kind not in AccessGrant.Kind.values:
        raise BillingError("Choose what kind of grant it is.")
    course_ids = sorted(set(course_ids))
    titles = check_grant(whole_specialization=whole_specialization, course_ids=course_ids, until=until, today=today)
    with transaction.atomic():
        grant = AccessGrant.objects.create(
            user=user,
            kind=kind,
            whole_specialization=whole_specialization,
            course_ids=[] if whole_specialization else course_ids,
            until=until,
            reason=reason,
            granted_by=granted_by,
        )
        emails.notify_learner(
            user=user,
            template="grant_given",
            event_key=str(grant.pk),
            context={"grant": grant, "titles": titles},
        )
    return grant


def grant_revoke(*, grant: AccessGrant, by) -> AccessGrant:
    if grant.revoked_at is not None:
        raise BillingError("This grant was already revoked.")
    AccessGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=by)
    grant.refresh_from_db()
    return grant


# ---- financial aid -----------------------------------------------------------------------------------


def aid_apply(
    *, user, circumstances: str, goals: str, whole_specialization: bool = True, course_ids: list[int] | None = None
) -> FinancialAidApplication:
    """A learner asks for financial aid. Raises BillingError with a message for the learner."""
    circumstances, goals = (circumstances or "").strip(), (goals or "").strip()
    for label, text in (("your circumstances", circumstances), ("your goals", goals)):
        if not TEXT_MIN <= len(text) <= TEXT_MAX:
            raise BillingError(f"Tell us about {label} in {TEXT_MIN} to {TEXT_MAX} characters.")
    course_ids = sorted(set(course_ids or []))
    if not whole_specialization:
        if not course_ids:
            raise BillingError("Choose the courses you ask for, or the whole specialization.")
        _course_titles(course_ids)
    try:
        with transaction.atomic():
            application = FinancialAidApplication.objects.create(
                user=user,
                circumstances=circumstances,
                goals=goals,
                whole_specialization=whole_specialization,
                course_ids=[] if whole_specialization else course_ids,
            )
    except IntegrityError as exc:
        raise BillingError("You already have an application waiting for review; we will e-mail you.") from exc
    return application


def _pending(application: FinancialAidApplication) -> FinancialAidApplication:
    locked = FinancialAidApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status != FinancialAidApplication.Status.PENDING:
        raise BillingError(f"This application was already {locked.get_status_display().lower()}.")
    return locked


def aid_approve(
    *, application: FinancialAidApplication, staff, until: datetime.date, note: str = "", today=None
) -> AccessGrant:
    """Approve: a financial-aid grant for what the learner asked, until `until`; the learner is e-mailed."""
    with transaction.atomic():
        application = _pending(application)
        grant = grant_create(
            user=application.user,
            whole_specialization=application.whole_specialization,
            course_ids=application.course_ids,
            until=until,
            kind=AccessGrant.Kind.FINANCIAL_AID,
            reason=f"Financial aid application {application.pk}" + (f": {note.strip()}" if note.strip() else ""),
            granted_by=staff,
            today=today,
        )
        application.status = FinancialAidApplication.Status.APPROVED
        application.decided_at = timezone.now()
        application.decided_by = staff
        application.decision_note = note.strip()
        application.grant = grant
        application.save(update_fields=["status", "decided_at", "decided_by", "decision_note", "grant"])
    return grant


def aid_decline(*, application: FinancialAidApplication, staff, note: str) -> FinancialAidApplication:
    note = " ".join((note or "").split())
    if not note:
        raise BillingError("Say why, in a sentence the learner reads.")
    with transaction.atomic():
        application = _pending(application)
        application.status = FinancialAidApplication.Status.DECLINED
        application.decided_at = timezone.now()
        application.decided_by = staff
        application.decision_note = note
        application.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        emails.notify_learner(
            user=application.user,
            template="aid_declined",
            event_key=str(application.pk),
            context={"application": application},
        )
    return application
