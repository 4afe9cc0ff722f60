"""The billing app's public door: other apps import only this module.

Billing says what a learner's subscription gives them at an instant; it never decides what they may
open (that is the access app, which asks this module).
"""

from __future__ import annotations

from .selectors import (
    ComplimentaryAccess,
    SubscribeOffer,
    complimentary_access_of,
    subscribe_offer,
    subscription_state_of,
)
from .state import LIVE_STATES, SubscriptionState

__all__ = [
    "LIVE_STATES",
    "ComplimentaryAccess",
    "SubscribeOffer",
    "SubscriptionState",
    "complimentary_access_of",
    "subscribe_offer",
    "subscription_state_of",
]
