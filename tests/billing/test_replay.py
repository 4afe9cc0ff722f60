"""A realistic month of Stripe events for 50 learners, delivered once in order, then three times over in
shuffled order with duplicates: the stored state must come out exactly the same."""

import random
import time

import pytest
from django.utils import timezone

from access import api as access
from billing.models import Customer, Dispute, Invoice, Refund, Subscription, WebhookEvent
from billing.state import subscription_state
from tests.billing import helpers as h
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SCENARIOS = ["converts", "cancels_in_trial", "fails_then_recovers", "fails_and_ends", "refunded", "no_trial_cancels"]


def learner_events(n: int, user_id: int, start: int) -> list[dict]:
    """One learner's events, in the order Stripe would send them (object timestamps strictly increase)."""
    scenario = SCENARIOS[n % len(SCENARIOS)]
    sub, cus, t = f"sub_r{n}", f"cus_r{n}", start
    trial_end = t + 7 * h.DAY
    events = []

    def add(type_, obj, at):
        events.append(h.event(type_, obj, created=at, event_id=f"evt_r{n}_{len(events)}"))

    def snap(at, **kw):
        base = {"created": t, "period_start": t, "period_end": trial_end, "trial_start": t, "trial_end": trial_end}
        base.update(kw)
        return h.subscription(sub, cus, user_id=user_id, **base)

    def inv(at, status, charge, number=1):
        return h.invoice(
            f"in_r{n}_{number}",
            cus,
            sub,
            status=status,
            created=at,
            amount=4900,
            charge=charge,
            billing_reason="subscription_cycle",
            period_start=trial_end,
            period_end=trial_end + 30 * h.DAY,
        )

    month = {"period_start": trial_end, "period_end": trial_end + 30 * h.DAY}
    if scenario == "no_trial_cancels":
        plain = {"trial_start": None, "trial_end": None, "period_start": t, "period_end": t + 30 * h.DAY}
        add("customer.subscription.created", snap(t, status="active", **plain), t)
        add(
            "invoice.paid",
            h.invoice(
                f"in_r{n}_0",
                cus,
                sub,
                status="paid",
                created=t + 1,
                amount=4900,
                charge=f"ch_r{n}_0",
                billing_reason="subscription_create",
                period_start=t,
                period_end=t + 30 * h.DAY,
            ),
            t + 1,
        )
        add(
            "customer.subscription.updated", snap(t, status="active", cancel_at_period_end=True, **plain), t + 5 * h.DAY
        )
        return events
    add("customer.subscription.created", snap(t, status="trialing"), t)
    add("customer.subscription.trial_will_end", snap(t, status="trialing"), trial_end - 3 * h.DAY)
    if scenario == "cancels_in_trial":
        add("customer.subscription.updated", snap(t, status="trialing", cancel_at_period_end=True), t + 2 * h.DAY)
        ended = snap(t, status="canceled", cancel_at_period_end=True, canceled_at=t + 2 * h.DAY, ended_at=trial_end)
        add("customer.subscription.deleted", ended, trial_end)
        return events
    if scenario in ("converts", "refunded"):
        add("invoice.paid", inv(trial_end + 60, "paid", f"ch_r{n}_1"), trial_end + 60)
        add("customer.subscription.updated", snap(t, status="active", **month), trial_end + 61)
        if scenario == "refunded":
            charge = h.charge_refunded(f"ch_r{n}_1", amount=4900, refunds=[(f"re_r{n}", 4900)], payment_intent="")
            add("charge.refunded", charge, trial_end + h.DAY)
            gone = snap(t, status="canceled", canceled_at=trial_end + h.DAY, ended_at=trial_end + h.DAY, **month)
            add("customer.subscription.deleted", gone, trial_end + h.DAY + 1)
        return events
    add("invoice.payment_failed", inv(trial_end + 60, "open", f"ch_r{n}_f1"), trial_end + 60)
    add("customer.subscription.updated", snap(t, status="past_due", **month), trial_end + 61)
    if scenario == "fails_then_recovers":
        add("invoice.paid", inv(trial_end + 3 * h.DAY, "paid", f"ch_r{n}_1"), trial_end + 3 * h.DAY)
        add("customer.subscription.updated", snap(t, status="active", **month), trial_end + 3 * h.DAY + 1)
    else:
        add("invoice.payment_failed", inv(trial_end + 5 * h.DAY, "open", f"ch_r{n}_f2"), trial_end + 5 * h.DAY)
        end = trial_end + 9 * h.DAY
        add("customer.subscription.deleted", snap(t, status="canceled", canceled_at=end, ended_at=end, **month), end)
    return events


def snapshot(users) -> dict:
    now = timezone.now()
    subs = sorted(
        (
            s.stripe_subscription_id,
            s.user.email,
            s.status,
            s.trial_end,
            s.current_period_start,
            s.current_period_end,
            s.cancel_at_period_end,
            s.canceled_at,
            s.ended_at,
            s.past_due_since,
            s.amount_cents,
        )
        for s in Subscription.objects.select_related("user")
    )
    invoices = sorted(
        (i.stripe_invoice_id, i.user_id, i.status, i.amount_paid, i.amount_refunded, i.stripe_charge_id)
        for i in Invoice.objects.all()
    )
    refunds = sorted((r.stripe_refund_id, r.invoice.stripe_invoice_id, r.amount_cents) for r in Refund.objects.all())
    states = {}
    for user in users:
        access.forget(user)
        states[user.email] = str(subscription_state(Subscription.objects.filter(user=user).first(), now=now))
    return {"subscriptions": subs, "invoices": invoices, "refunds": refunds, "states": states}


def reset_billing_state():
    for model in (Refund, Dispute, Invoice, Subscription, WebhookEvent):
        model.objects.all().delete()


@pytest.mark.slow
def test_shuffled_duplicated_delivery_ends_in_the_same_state(client, settings, celery_eager):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_replay"
    start = int(time.time()) - 20 * h.DAY
    users, stream = [], []
    for n in range(50):
        user = UserFactory(email=f"replay{n}@example.com")
        Customer.objects.create(user=user, stripe_customer_id=f"cus_r{n}")
        users.append(user)
        stream += learner_events(n, user.pk, start + n * 600)
    stream.sort(key=lambda e: e["created"])

    for payload in stream:
        assert h.post_event(client, payload, settings.STRIPE_WEBHOOK_SECRET).status_code == 200
    in_order = snapshot(users)
    assert WebhookEvent.objects.filter(status="processed").count() == len(stream)

    reset_billing_state()
    shuffled = stream * 3
    random.Random(1234).shuffle(shuffled)
    for payload in shuffled:
        assert h.post_event(client, payload, settings.STRIPE_WEBHOOK_SECRET).status_code == 200
    assert WebhookEvent.objects.count() == len(stream)
    assert snapshot(users) == in_order

    # And the state is the one the scenarios describe, not merely consistent.
    by_state = {}
    for email, state in in_order["states"].items():
        by_state.setdefault(state, set()).add(int(email.removeprefix("replay").split("@")[0]) % len(SCENARIOS))
    assert by_state == {
        "active": {
            SCENARIOS.index("converts"),
            SCENARIOS.index("fails_then_recovers"),
            SCENARIOS.index("no_trial_cancels"),
        },
        "ended": {
            SCENARIOS.index("cancels_in_trial"),
            SCENARIOS.index("fails_and_ends"),
            SCENARIOS.index("refunded"),
        },
    }
    assert len(in_order["refunds"]) == sum(1 for n in range(50) if SCENARIOS[n % 6] == "refunded")
    assert Invoice.objects.filter(status="paid").count() == sum(
        1 for n in range(50) if SCENARIOS[n % 6] in ("converts", "refunded", "fails_then_recovers", "no_trial_cancels")
    )
