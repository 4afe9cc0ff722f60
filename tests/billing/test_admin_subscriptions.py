"""Staff manage a subscription from the admin, against localstripe: every action goes to Stripe first, the
subscription changes only from Stripe's answer (the writer the webhooks use), and who, when, what and why
is recorded and shown on the subscription."""

import datetime
import time

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from access import api as access
from access.api import AccessState
from billing import gateway
from billing.models import Refund, StaffAction, Subscription
from courses.models import CourseCompletion
from tests.billing import helpers as h
from tests.billing.test_localstripe import paid_subscription, start_trial
from tests.factories import CourseFactory, SpecializationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True, email="root@example.com")


def manage(client, sub, kind, capture, **data):
    url = reverse("admin:billing_subscription_manage", args=[sub.pk, kind])
    with capture(execute=True):  # as after the admin request's commit (the e-mails leave then)
        return client.post(url, data)


def remote(sub):
    return gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id)


def test_end_now_goes_through_stripe_is_recorded_and_keeps_completed_courses_open(
    client, stripe_local, celery_eager, admin_user, django_capture_on_commit_callbacks
):
    learner = UserFactory(email="lin@example.com")
    sub, _ = paid_subscription(client, learner)
    spec = SpecializationFactory()
    done, other = CourseFactory(specialization=spec), CourseFactory(specialization=spec)
    CourseCompletion.objects.create(user=learner, course=done, completed_at=timezone.now())
    client.force_login(admin_user)

    page = client.get(reverse("admin:billing_subscription_change", args=[sub.pk])).content.decode()
    assert "Manage this subscription through Stripe" in page and "End now (no refund)" in page
    response = manage(client, sub, "end_now", django_capture_on_commit_callbacks, reason="Asked by phone")

    assert response.status_code == 302
    assert remote(sub).status == "canceled"
    sub.refresh_from_db()
    assert sub.is_final and sub.status == "canceled"
    action = StaffAction.objects.get()
    assert (action.staff, action.kind, action.reason, action.succeeded) == (
        admin_user,
        "end_now",
        "Asked by phone",
        True,
    )
    assert access.access_state(learner) is AccessState.EXPIRED
    ended = [m for m in mail.outbox if m.to == [learner.email] and "has ended" in m.subject]
    assert (
        len(ended) == 1 and "Our staff ended your subscription" in ended[0].body and "Asked by phone" in ended[0].body
    )
    assert done.title in ended[0].body and other.title not in ended[0].body
    # Shown on the subscription: who, when, what, why.
    page = client.get(reverse("admin:billing_subscription_change", args=[sub.pk])).content.decode()
    assert "Staff actions (who, when, what, why)" in page
    assert "root@example.com" in page and "Asked by phone" in page and "End now (no refund)" in page
    # Stripe's own event comes later through the webhook and changes nothing more (no second e-mail).
    event = h.event("customer.subscription.deleted", remote(sub).to_dict(), created=int(time.time()))
    with django_capture_on_commit_callbacks(execute=True):
        assert h.post_event(client, event, _secret()).status_code == 200
    assert len([m for m in mail.outbox if "has ended" in m.subject]) == 1


def _secret():
    from django.conf import settings

    return settings.STRIPE_WEBHOOK_SECRET


def test_end_now_with_refund_refunds_the_last_payment_in_stripe(
    client, stripe_local, celery_eager, admin_user, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    sub, invoice = paid_subscription(client, learner)
    client.force_login(admin_user)
    form = client.get(reverse("admin:billing_subscription_manage", args=[sub.pk, "end_now_refund"])).content.decode()
    assert "$49.00" in form and "refunded in full" in form

    manage(client, sub, "end_now_refund", django_capture_on_commit_callbacks, reason="Charged by mistake")

    assert remote(sub).status == "canceled"
    assert gateway.client().v1.charges.retrieve(invoice.stripe_charge_id).amount_refunded == 4900
    refund = Refund.objects.get()
    assert refund.requested_by == admin_user and refund.reason == "Charged by mistake"
    action = StaffAction.objects.get()
    assert action.kind == "end_now_refund" and action.detail.startswith("Refunded 49.00 USD")
    subjects = [m.subject for m in mail.outbox if m.to == [learner.email]]
    assert any("has ended" in s for s in subjects) and any("We refunded your payment" in s for s in subjects)


def test_cancel_at_period_end_then_resume_both_through_stripe(
    client, stripe_local, celery_eager, admin_user, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    sub, _ = paid_subscription(client, learner)
    client.force_login(admin_user)

    manage(client, sub, "cancel_at_period_end", django_capture_on_commit_callbacks, reason="Moving abroad")
    assert remote(sub).cancel_at_period_end is True
    sub.refresh_from_db()
    assert sub.cancel_at_period_end and not sub.is_final
    assert access.access_state(learner) is AccessState.ACTIVE  # open until the period's end
    manage(client, sub, "resume", django_capture_on_commit_callbacks, reason="Changed their mind")
    assert remote(sub).cancel_at_period_end is False
    sub.refresh_from_db()
    assert not sub.cancel_at_period_end

    assert list(StaffAction.objects.order_by("id").values_list("kind", "reason")) == [
        ("cancel_at_period_end", "Moving abroad"),
        ("resume", "Changed their mind"),
    ]
    subjects = [m.subject for m in mail.outbox if m.to == [learner.email]]
    assert any("Your subscription is canceled" in s for s in subjects)
    assert any("Your subscription continues" in s for s in subjects)


def test_extend_trial_moves_the_first_charge_in_stripe(
    client, stripe_local, celery_eager, admin_user, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    start_trial(client, learner)
    sub = Subscription.objects.get(user=learner)
    before = sub.trial_end
    client.force_login(admin_user)

    manage(client, sub, "extend_trial", django_capture_on_commit_callbacks, reason="Partner", trial_days="10")

    expected = before + datetime.timedelta(days=10)
    assert remote(sub).trial_end == int(expected.timestamp())
    sub.refresh_from_db()
    assert abs(sub.trial_end - expected) < datetime.timedelta(seconds=1)
    assert "Trial extended by 10 days" in StaffAction.objects.get().detail
    assert any(m.to == [learner.email] and "Your free trial now ends on" in m.subject for m in mail.outbox)


def test_bad_input_changes_nothing_and_says_why(
    client, stripe_local, celery_eager, admin_user, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    start_trial(client, learner)
    sub = Subscription.objects.get(user=learner)
    client.force_login(admin_user)

    no_reason = manage(client, sub, "end_now", django_capture_on_commit_callbacks, reason="  ")
    assert no_reason.status_code == 200 and "This field is required" in no_reason.content.decode()
    too_long = manage(client, sub, "extend_trial", django_capture_on_commit_callbacks, reason="x", trial_days="400")
    assert "less than or equal to 90" in too_long.content.decode()
    not_canceled = manage(client, sub, "resume", django_capture_on_commit_callbacks, reason="x")
    assert "not set to end, so there is nothing to resume" in not_canceled.content.decode()
    no_payment = manage(client, sub, "end_now_refund", django_capture_on_commit_callbacks, reason="x")
    assert "Nothing was paid on it that could be refunded" in no_payment.content.decode()

    assert remote(sub).status != "canceled" and not StaffAction.objects.exists()
    sub.refresh_from_db()
    assert not sub.is_final


def test_stripe_refusing_is_recorded_and_changes_nothing(
    client, stripe_local, celery_eager, admin_user, settings, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    start_trial(client, learner)
    sub = Subscription.objects.get(user=learner)
    client.force_login(admin_user)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable

    page = manage(client, sub, "end_now", django_capture_on_commit_callbacks, reason="Fraud").content.decode()

    assert "Stripe refused" in page and "Nothing changed" in page
    sub.refresh_from_db()
    assert not sub.is_final
    action = StaffAction.objects.get()
    assert not action.succeeded and action.outcome.startswith("Refused") and action.staff == admin_user


def test_staff_without_the_permission_cannot_manage(client, stripe_local, celery_eager):
    learner = UserFactory()
    start_trial(client, learner)
    sub = Subscription.objects.get(user=learner)
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    client.force_login(viewer)
    page = client.get(reverse("admin:billing_subscription_change", args=[sub.pk])).content.decode()
    assert "Manage this subscription through Stripe" not in page
    url = reverse("admin:billing_subscription_manage", args=[sub.pk, "end_now"])
    assert client.post(url, {"reason": "x"}).status_code == 403
    assert not StaffAction.objects.exists() and remote(sub).status != "canceled"


def test_the_changelist_action_opens_the_confirmation_page(client, stripe_local, celery_eager, admin_user):
    learner = UserFactory()
    start_trial(client, learner)
    sub = Subscription.objects.get(user=learner)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:billing_subscription_changelist")).content.decode()
    assert "End now (no refund)" in listing and 'value="manage_end_now"' in listing
    response = client.post(
        reverse("admin:billing_subscription_changelist"), {"action": "manage_end_now", "_selected_action": [sub.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:billing_subscription_manage", args=[sub.pk, "end_now"])
