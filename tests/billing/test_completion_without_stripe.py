"""Finishing the whole specialization ends the subscription at the period's end, but never by calling
Stripe from the request or the grading worker that recorded the completion: it is queued, and runs when
Stripe can be reached."""

import pytest
from django.conf import settings as django_settings
from kombu import Connection

from billing import gateway, tasks
from billing.models import Subscription
from courses import services as course_services
from tests.billing.test_localstripe import SpyHTTPClient, start_trial
from tests.conftest import _free_port
from tests.factories import CourseFactory, SpecializationFactory, UserFactory

pytestmark = pytest.mark.django_db

TASK = "billing.tasks.end_subscription_for_completion"


@pytest.fixture
def broker_queue(celery_eager):
    """Celery NOT eager: tasks go to the test run's own Redis broker; the test reads its queue."""
    celery_eager.conf.task_always_eager = False
    with Connection(django_settings.CELERY_BROKER_URL) as connection:
        queue = connection.SimpleQueue("celery")
        queue.clear()
        yield queue
        queue.clear()
        queue.close()


def test_completing_the_specialization_with_stripe_unreachable_succeeds_and_queues_the_end(
    client, stripe_local, localstripe_server, settings, monkeypatch, broker_queue, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    start_trial(client, learner)  # while Stripe is up
    spec = SpecializationFactory(slug="spec-unreachable")
    courses = [CourseFactory(specialization=spec) for _ in range(2)]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    spy = SpyHTTPClient()
    monkeypatch.setattr(gateway, "http_client_override", spy)

    with django_capture_on_commit_callbacks(execute=True):  # as after the quiz request's commit
        completions = [course_services.course_completion_record(user=learner, course=c) for c in courses]

    assert all(c.pk for c in completions)
    assert spy.calls == []  # not one request to Stripe on the way
    ours = [m for m in _drain(broker_queue) if m.headers["task"] == TASK]  # beside certificates' tasks
    assert [m.payload[0] for m in ours] == [[learner.pk]]
    assert not Subscription.objects.get(user=learner).cancel_at_period_end

    settings.STRIPE_API_BASE = localstripe_server  # Stripe is back; a worker runs the task
    tasks.end_subscription_for_completion.apply(args=ours[0].payload[0])

    sub = Subscription.objects.get(user=learner)
    assert sub.cancel_at_period_end and sub.ends_for_completion
    remote = gateway.client().v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert remote.cancel_at_period_end is True


def _drain(queue) -> list:
    messages = []
    while True:
        try:
            message = queue.get(timeout=1)
        except queue.Empty:
            return messages
        message.ack()
        messages.append(message)
