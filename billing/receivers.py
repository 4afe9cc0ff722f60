"""Reactions to other apps' events: each only queues a task, never calls Stripe inline (a quiz request
or a grading worker must not wait on, or fail because of, our payment provider)."""

from django.db import transaction

from courses import api as courses


def end_subscription_after_specialization(sender, user, **kwargs) -> None:
    """Nobody keeps paying for a programme they completed: end at the period's end (setting, on by default)."""
    from .tasks import end_subscription_for_completion

    transaction.on_commit(lambda: end_subscription_for_completion.delay(user.pk), robust=True)


def connect() -> None:
    courses.specialization_completed.connect(
        end_subscription_after_specialization, dispatch_uid="billing-end-on-completion"
    )
