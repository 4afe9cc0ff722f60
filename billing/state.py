"""What a subscription gives its learner at an instant: pure functions of a Subscription row and `now`.

Billing only says what a subscription *is*; what a learner may open or submit is decided by the
`access` app, which asks for this state (through billing.api) together with course facts.
"""

from __future__ import annotations

import datetime
import enum

from django.conf import settings


class SubscriptionState(enum.StrEnum):
    NONE = "none"  # never subscribed, or a checkout that was never paid
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE_GRACE = "past_due_grace"  # a payment failed; still open for BILLING_PAST_DUE_GRACE_DAYS
    ENDED = "ended"  # canceled, unpaid, paused, grace over, or canceled at a period end that has passed

    @property
    def label(self) -> str:
        return {
            "none": "No subscription",
            "trialing": "Free trial",
            "active": "Active",
            "past_due_grace": "Payment overdue",
            "ended": "Canceled or expired",
        }[self.value]

    @property
    def is_live(self) -> bool:
        """The subscription opens the course material and graded work now."""
        return self in LIVE_STATES


LIVE_STATES = frozenset({SubscriptionState.TRIALING, SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE_GRACE})


def subscription_state(subscription, *, now: datetime.datetime) -> SubscriptionState:
    """The state a subscription gives its learner at `now` (pure; no queries). None: never subscribed."""
    if subscription is None:
        return SubscriptionState.NONE
    if subscription.is_final:
        return SubscriptionState.ENDED
    if subscription.is_trialing(now):
        return SubscriptionState.TRIALING
    period_over = subscription.current_period_end is not None and subscription.current_period_end < now
    if subscription.cancel_at_period_end and period_over:
        # Stripe ends it at the period's end; do not wait for a webhook that may be late.
        return SubscriptionState.ENDED
    if subscription.status in ("active", "trialing"):
        return SubscriptionState.ACTIVE
    if subscription.status == "past_due":
        since = subscription.past_due_since or subscription.current_period_start or now
        grace = datetime.timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)
        return SubscriptionState.PAST_DUE_GRACE if now < since + grace else SubscriptionState.ENDED
    if subscription.status in ("unpaid", "paused"):  # paused: the trial ended without a card
        return SubscriptionState.ENDED
    # incomplete (never paid) and no trial running: as if never subscribed
    return SubscriptionState.NONE
