"""The production path end to end: the endpoint stores the event, the task is sent to a real broker
after commit, and a real Celery worker (started here, stopped by its own handle) processes it."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from billing.models import Customer, Subscription, WebhookEvent
from tests.billing import helpers as h
from tests.factories import UserFactory

pytestmark = pytest.mark.slow  # make check skips it; make test runs it

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db, celery_eager):
    # The test run's own Redis database (emptied before each test by tests/conftest.py), never a shared one.
    broker = settings.REDIS_URL
    celery_eager.conf.task_always_eager = False
    _use_broker(celery_eager, broker)
    db = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test"),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-Q",
            "celery",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield process
    process.terminate()
    process.wait(timeout=20)
    _use_broker(celery_eager, settings.CELERY_BROKER_URL)


def _use_broker(app, url: str) -> None:
    """Point the app at another broker. kombu keeps its pools per broker URL (never close them: eager
    tasks acquire a producer too); the app only has to forget which one it was using."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def test_a_real_worker_processes_the_stored_event(client, worker, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_worker"
    learner = UserFactory()
    Customer.objects.create(user=learner, stripe_customer_id="cus_w")
    now = int(time.time())
    snapshot = h.subscription(
        "sub_w",
        "cus_w",
        status="trialing",
        created=now,
        period_start=now,
        period_end=now + 7 * h.DAY,
        trial_start=now,
        trial_end=now + 7 * h.DAY,
    )
    response = h.post_event(client, h.event("customer.subscription.created", snapshot, created=now), "whsec_worker")
    assert response.status_code == 200
    deadline = time.monotonic() + 90  # generous: a busy 2-core machine starts Celery slowly
    while time.monotonic() < deadline and WebhookEvent.objects.get().status == "received":
        assert worker.poll() is None, worker.stderr.read().decode()
        time.sleep(0.2)
    assert WebhookEvent.objects.get().status == "processed"
    assert Subscription.objects.get().user == learner
