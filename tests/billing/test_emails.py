"""Every change of what a learner pays or can open is e-mailed once, through the notifications outbox, with a
plain-text part, an HTML part and the site's name: cancellation confirmed (end date, which completed courses
stay open), access ended, the reminder before the first charge, payment failed, refund issued, resumed, trial
extended."""

import datetime
import time

import pytest
from django.core import mail
from django.utils import timezone

from billing import services
from billing.models import Customer, Invoice
from courses.models import CourseCompletion
from notifications import api as notifications
from notifications.models import EmailOutbox
from tests import factories
from tests.billing import helpers as h

pytestmark = pytest.mark.django_db

NOW = int(time.time())
SITE = "Deep Learning Specialization"


@pytest.fixture
def learner(db):
    user = factories.UserFactory(email="grace@example.com", name="Grace Hopper")
    Customer.objects.create(user=user, stripe_customer_id="cus_grace")
    return user


@pytest.fixture
def courses(learner):
    spec = factories.SpecializationFactory()
    done = factories.CourseFactory(specialization=spec, title="Neural Networks and Deep Learning", slug="nn-dl")
    other = factories.CourseFactory(specialization=spec, title="Sequence Models", slug="seq-models")
    CourseCompletion.objects.create(user=learner, course=done, completed_at=timezone.now())
    return done, other


def active(**overrides):
    values = {
        "status": "active",
        "created": NOW - 20 * h.DAY,
        "period_start": NOW - 5 * h.DAY,
        "period_end": NOW + 25 * h.DAY,
    }
    values.update(overrides)
    return h.subscription("sub_grace", "cus_grace", **values)


def sent_to(user, phrase: str) -> list:
    return [m for m in mail.outbox if m.to == [user.email] and phrase in m.subject]


def html_of(message) -> str:
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return html


def test_cancellation_is_confirmed_with_end_date_and_the_completed_courses_that_stay_open(
    client, secret, learner, courses
):
    done, other = courses
    h.post_event(client, h.event("customer.subscription.created", active(), created=NOW - 20 * h.DAY), secret)
    leaving = active(cancel_at_period_end=True, canceled_at=NOW)
    for _ in range(2):  # a redelivered event is told once
        h.post_event(client, h.event("customer.subscription.updated", leaving, created=NOW, event_id="evt_c"), secret)
    h.post_event(client, h.event("customer.subscription.updated", leaving, created=NOW + 1), secret)  # same state

    [message] = sent_to(learner, "Your subscription is canceled")
    end = datetime.datetime.fromtimestamp(NOW + 25 * h.DAY, tz=datetime.UTC)
    assert f"open until {end:%-d %B %Y}" in message.subject
    assert message.subject.startswith("[Deep Learning] ")
    assert "Hello Grace Hopper" in message.body and SITE in message.body
    assert f"Every course stays open until {end:%A %-d %B %Y}" in message.body
    assert f"{done.title}: http://" in message.body and f"/courses/{done.slug}/" in message.body
    assert other.title not in message.body and "The other courses close" in message.body
    assert "Neural Networks and Deep Learning" in html_of(message) and SITE in html_of(message)
    # An account e-mail: no unsubscribe header or link, and it cannot be turned off.
    assert "List-Unsubscribe" not in message.extra_headers and "unsubscribe" not in message.body.lower()
    with pytest.raises(notifications.PreferenceRefused):
        notifications.set_preference(user_id=learner.pk, kind="billing.account", email=notifications.EMAIL_NONE)


def test_access_ended_names_the_courses_that_stay_open(client, secret, learner, courses):
    h.post_event(client, h.event("customer.subscription.created", active(), created=NOW - 20 * h.DAY), secret)
    ended = active(status="canceled", canceled_at=NOW, ended_at=NOW)
    h.post_event(client, h.event("customer.subscription.deleted", ended, created=NOW), secret)
    h.post_event(client, h.event("customer.subscription.deleted", ended, created=NOW + 5), secret)
    [message] = sent_to(learner, "Your subscription has ended")
    assert "Nothing more will be charged" in message.body
    assert "Neural Networks and Deep Learning" in message.body and "Sequence Models" not in message.body
    assert "The other courses are closed now" in message.body and SITE in message.body
    assert "<p>" in html_of(message)
    # It is in the site's notifications too, linking to the billing page.
    [seen] = notifications.recent_for(learner)
    assert seen.title == "Your subscription has ended"


def test_reminder_before_the_first_charge_goes_out_once_with_date_and_amount(client, secret, learner):
    trial = active(
        status="trialing", trial_start=NOW - 4 * h.DAY, trial_end=NOW + 3 * h.DAY, period_end=NOW + 3 * h.DAY
    )
    for created in (NOW, NOW + 60):  # Stripe sends it once; a replay must not send a second reminder
        h.post_event(client, h.event("customer.subscription.trial_will_end", trial, created=created), secret)
    [message] = sent_to(learner, "Your free trial ends in 3 days")
    day = datetime.datetime.fromtimestamp(NOW + 3 * h.DAY, tz=datetime.UTC)
    assert f"{day:%-d %B %Y}" in message.body and "$49.00" in message.body
    assert SITE in message.body and html_of(message)


def test_payment_failed_is_told_once_per_attempt(client, secret, learner):
    h.post_event(client, h.event("customer.subscription.created", active(), created=NOW - 20 * h.DAY), secret)
    failed = h.invoice(
        "in_grace_2",
        "cus_grace",
        "sub_grace",
        status="open",
        created=NOW,
        amount=4900,
        charge="ch_grace_2",
        billing_reason="subscription_cycle",
        period_start=NOW,
        period_end=NOW + 30 * h.DAY,
    )
    h.post_event(client, h.event("invoice.payment_failed", dict(failed, attempt_count=1), created=NOW), secret)
    h.post_event(client, h.event("invoice.payment_failed", dict(failed, attempt_count=1), created=NOW + 1), secret)
    h.post_event(client, h.event("invoice.payment_failed", dict(failed, attempt_count=2), created=NOW + 2), secret)
    told = sent_to(learner, "Your payment failed")
    assert len(told) == 2
    assert "$49.00" in told[0].body and "/billing/" in told[0].body and SITE in told[0].body
    assert html_of(told[0])


def test_refund_issued_is_e_mailed_with_amount_and_reason(learner, stripe_prod, django_capture_on_commit_callbacks):
    invoice = Invoice.objects.create(
        stripe_invoice_id="in_grace_1",
        user=learner,
        status="paid",
        amount_paid=4900,
        stripe_charge_id="ch_grace_1",
        number="MOOC-0001",
    )
    staff = factories.UserFactory(is_staff=True)
    stripe_prod.responses[("POST", "/v1/refunds")] = {"id": "re_g1", "object": "refund", "status": "succeeded"}
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_create(invoice=invoice, amount_cents=1500, reason="Video was broken", requested_by=staff)
    [message] = sent_to(learner, "We refunded your payment")
    assert "$15.00" in message.body and "Video was broken" in message.body and "MOOC-0001" in message.body
    assert SITE in message.body and "$15.00" in html_of(message)
    assert EmailOutbox.objects.get(recipient=learner, kind="billing.account").status == "sent"


def test_resuming_and_a_longer_trial_are_told(client, secret, learner):
    trial = active(status="trialing", trial_start=NOW - h.DAY, trial_end=NOW + 6 * h.DAY, period_end=NOW + 6 * h.DAY)
    h.post_event(client, h.event("customer.subscription.created", trial, created=NOW - h.DAY), secret)
    longer = dict(trial, trial_end=NOW + 20 * h.DAY)
    longer["items"]["data"][0]["current_period_end"] = NOW + 20 * h.DAY
    h.post_event(client, h.event("customer.subscription.updated", longer, created=NOW), secret)
    [extended] = sent_to(learner, "Your free trial now ends on")
    day = datetime.datetime.fromtimestamp(NOW + 20 * h.DAY, tz=datetime.UTC)
    assert f"{day:%-d %B %Y}" in extended.subject and "nothing is charged before that day" in extended.body
    leaving = dict(longer, cancel_at_period_end=True)
    h.post_event(client, h.event("customer.subscription.updated", leaving, created=NOW + 1), secret)
    h.post_event(client, h.event("customer.subscription.updated", longer, created=NOW + 2), secret)
    [resumed] = sent_to(learner, "Your subscription continues")
    assert "Every course stays open" in resumed.body and SITE in resumed.body


def test_access_ending_without_a_final_event_is_told_once(client, secret, learner, courses):
    """Stripe stops a subscription that stayed unpaid (status unpaid: access ends, nothing is final yet);
    its later deletion is the same ending and is not told twice."""
    h.post_event(client, h.event("customer.subscription.created", active(), created=NOW - 20 * h.DAY), secret)
    h.post_event(client, h.event("customer.subscription.updated", active(status="unpaid"), created=NOW), secret)
    ended = active(status="canceled", canceled_at=NOW + 60, ended_at=NOW + 60)
    h.post_event(client, h.event("customer.subscription.deleted", ended, created=NOW + 60), secret)
    [message] = sent_to(learner, "Your subscription has ended")
    assert "could not be collected" in message.body and courses[0].title in message.body


def test_a_refund_made_in_the_stripe_dashboard_is_e_mailed_once(client, secret, learner):
    paid = h.invoice(
        "in_grace_9",
        "cus_grace",
        "sub_grace",
        status="paid",
        created=NOW,
        amount=4900,
        charge="ch_grace_9",
        billing_reason="subscription_cycle",
        period_start=NOW,
        period_end=NOW + 30 * h.DAY,
    )
    h.post_event(client, h.event("invoice.paid", paid, created=NOW), secret)
    charge = h.charge_refunded("ch_grace_9", amount=4900, refunds=[("re_dash", 2500)], payment_intent="pi_9")
    for _ in range(2):
        h.post_event(client, h.event("charge.refunded", charge, created=NOW + 60), secret)
    [message] = sent_to(learner, "We refunded your payment")
    assert "$25.00" in message.body and "Refunded in the Stripe dashboard" in message.body and SITE in message.body
