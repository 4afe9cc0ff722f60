"""Reactions to other apps' signals."""

import logging

from courses.signals import specialization_completed

from . import gateway, services

logger = logging.getLogger(__name__)


def end_subscription_after_specialization(sender, user, **kwargs) -> None:
    """Nobody keeps paying for a programme they completed: end at the period's end (setting, on by default)."""
    try:
        services.subscription_end_for_completion(user=user)
    except (gateway.GatewayError, services.BillingError):
        # The nightly reconciliation does not cover this; log loudly so staff can end it by hand.
        logger.exception("Could not schedule the end of %s's subscription after completion", user)


def connect() -> None:
    specialization_completed.connect(end_subscription_after_specialization, dispatch_uid="billing-end-on-completion")
