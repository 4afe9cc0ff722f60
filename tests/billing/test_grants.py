"""Complimentary access and financial aid: staff grant courses or the whole specialization until a date;
learners apply with a short form, staff approve (a grant) or decline, with an e-mail either way."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from access import api as access
from billing import services
from billing.models import AccessGrant, FinancialAidApplication
from tests.factories import CourseFactory, ItemFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
WHY = "I lost my job this spring and cannot pay monthly."
GOALS = "I want to move into machine learning engineering."


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


def test_a_staff_grant_in_the_admin_opens_chosen_courses_until_its_date(
    client, superuser, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    granted, other = CourseFactory(release_date=TODAY), CourseFactory(release_date=TODAY)
    lecture, closed = ItemFactory(week__course=granted), ItemFactory(week__course=other)
    client.force_login(superuser)
    until = TODAY + datetime.timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_accessgrant_add"),
            {
                "user": learner.pk,
                "kind": "partner",
                "courses": [granted.pk],
                "until": until.isoformat(),
                "reason": "Partner",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = AccessGrant.objects.get()
    assert grant.course_ids == [granted.pk] and grant.granted_by == superuser and not grant.whole_specialization
    assert access.can_view_item(learner, lecture) and access.can_submit(learner, lecture)
    access.forget(learner)
    assert not access.can_view_item(learner, closed)
    [message] = [m for m in mail.outbox if m.to == [learner.email]]
    assert f"Free access until {until:%-d %B %Y}" in message.subject and granted.title in message.body
    # Revoked: closed again.
    client.post(reverse("admin:billing_accessgrant_changelist"), {"action": "revoke", "_selected_action": [grant.pk]})
    access.forget(learner)
    assert not access.can_view_item(learner, lecture)


def test_a_grant_without_courses_or_with_a_past_date_is_refused(client, superuser):
    learner = UserFactory()
    client.force_login(superuser)
    page = client.post(
        reverse("admin:billing_accessgrant_add"),
        {"user": learner.pk, "kind": "staff", "until": (TODAY - datetime.timedelta(days=1)).isoformat(), "reason": "x"},
    )
    assert page.status_code == 200 and not AccessGrant.objects.exists()
    with pytest.raises(services.BillingError, match="Choose the courses"):
        services.grant_create(
            user=learner,
            whole_specialization=False,
            course_ids=[],
            until=TODAY,
            kind="staff",
            reason="x",
            granted_by=superuser,
        )
    with pytest.raises(services.BillingError, match="today or later"):
        services.grant_create(
            user=learner,
            whole_specialization=True,
            course_ids=[],
            until=TODAY - datetime.timedelta(days=1),
            kind="staff",
            reason="x",
            granted_by=superuser,
        )


def test_apply_then_approve_opens_every_course_and_e_mails(client, superuser, django_capture_on_commit_callbacks):
    learner = UserFactory()
    lecture = ItemFactory(week__course=CourseFactory(release_date=TODAY))
    client.force_login(learner)
    assert not access.can_view_item(learner, lecture)
    sent = client.post(reverse("billing:financial_aid"), {"circumstances": WHY, "goals": GOALS, "scope": "whole"})
    assert sent.status_code == 302
    again = client.post(reverse("billing:financial_aid"), {"circumstances": WHY, "goals": GOALS, "scope": "whole"})
    assert "already have an application waiting" in again.content.decode()
    waiting = client.get(reverse("billing:financial_aid")).content.decode()
    assert "Staff are reviewing your application" in waiting and "Send my application" not in waiting
    application = FinancialAidApplication.objects.get()

    client.force_login(superuser)
    queue = client.get(reverse("admin:billing_financialaidapplication_changelist"), follow=True).content.decode()
    assert learner.email in queue and "Review application" in queue
    until = TODAY + datetime.timedelta(days=90)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:billing_financialaidapplication_review", args=[application.pk]),
            {"until": until.isoformat(), "note": "Welcome", "approve": "1"},
        )
    application.refresh_from_db()
    assert application.status == "approved" and application.grant.until == until
    assert application.grant.whole_specialization and application.decided_by == superuser
    access.forget(learner)
    decision = access.can_view_item(learner, lecture)
    assert decision and decision.reason is access.Reason.COMPLIMENTARY
    assert any(m.to == [learner.email] and "financial aid is approved" in m.subject for m in mail.outbox)
    client.force_login(learner)
    mine = client.get(reverse("billing:financial_aid")).content.decode()
    assert "Approved" in mine and f"{until:%-d %B %Y}" in mine
    overview = client.get(reverse("billing:overview")).content.decode()
    assert f"Free access (financial aid) to every course until <strong>{until:%-d %B %Y}</strong>" in overview


def test_decline_needs_a_reason_and_e_mails_it(client, superuser, django_capture_on_commit_callbacks):
    learner = UserFactory()
    application = services.aid_apply(user=learner, circumstances=WHY, goals=GOALS)
    client.force_login(superuser)
    url = reverse("admin:billing_financialaidapplication_review", args=[application.pk])
    no_reason = client.post(url, {"note": "", "decline": "1"}).content.decode()
    assert "Say why" in no_reason
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"note": "Please apply again with more detail.", "decline": "1"})
    application.refresh_from_db()
    assert application.status == "declined" and not AccessGrant.objects.exists()
    [message] = [m for m in mail.outbox if m.to == [learner.email]]
    assert "Please apply again with more detail." in message.body
    with pytest.raises(services.BillingError, match="already declined"):
        services.aid_decline(application=application, staff=superuser, note="again")


def test_a_too_short_application_is_refused_with_a_message(client):
    learner = UserFactory()
    client.force_login(learner)
    page = client.post(reverse("billing:financial_aid"), {"circumstances": "poor", "goals": "learn", "scope": "whole"})
    assert page.status_code == 200 and "at least 20 characters" in page.content.decode()
    with pytest.raises(services.BillingError, match="20 to 2000"):
        services.aid_apply(user=learner, circumstances="short", goals=GOALS)
    assert not FinancialAidApplication.objects.exists()
