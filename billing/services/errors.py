"""What billing services raise for people to read."""


class BillingError(Exception):
    """Something a learner or admin asked for that cannot be done; the message is written for them."""


class TrialRefused(BillingError):
    pass


class WebhookRejected(Exception):
    """Missing or bad signature, or not an event: answered with 400, nothing stored."""
