"""The embedded default (`make run`: SQLite) must not lose webhooks: Stripe events posted at once all get
200 and are stored and processed. localstripe does not retry, so a 500 "database is locked" was an
event lost for good (an invoice left draft, a refund not recorded).

The server runs in its own process with its own settings (tests/billing/sqlite_server_settings.py) on a
temporary SQLite file, as `make run` serves it: `runserver`, one thread per request
(tests/billing/sqlite_server.py)."""

import concurrent.futures
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.billing import helpers as h
from tests.conftest import _free_port

pytestmark = pytest.mark.slow  # make check skips it; make test runs it

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 10
SECRET = "whsec_sqlite_concurrency"


@pytest.fixture
def sqlite_server(tmp_path):
    """runserver on a fresh SQLite file with LEARNERS learners who are Stripe customers; stopped by its
    own process handle."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.billing.sqlite_server_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": "",
        "REDIS_URL": "",
    }
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.billing.sqlite_server", str(port), str(LEARNERS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/billing/stripe/webhook/"
    deadline = time.monotonic() + 300  # migrations first, on a busy machine
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            break  # it answers (405 for a GET): up
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("the development server did not start")
            time.sleep(0.1)
    yield url, tmp_path / "db.sqlite3"
    server.terminate()
    server.wait(timeout=10)


def _events() -> list[dict]:
    """Each learner's first month, five events each, as Stripe sends them when a trial converts."""
    t0 = int(time.time()) - 8 * h.DAY
    events = []
    for i in range(LEARNERS):
        sub, cus, paid_at = f"sub_sq{i}", f"cus_sq{i}", t0 + 7 * h.DAY
        trial = {"period_start": t0, "period_end": paid_at, "trial_start": t0, "trial_end": paid_at}
        month = {"period_start": paid_at, "period_end": paid_at + 30 * h.DAY}
        events += [
            h.event(
                "customer.subscription.created",
                h.subscription(sub, cus, status="trialing", created=t0, **trial),
                created=t0,
            ),
            h.event(
                "customer.subscription.updated",
                h.subscription(sub, cus, status="active", created=t0, **month),
                created=paid_at,
            ),
        ]
        for type_, status in (("invoice.created", "draft"), ("invoice.finalized", "open"), ("invoice.paid", "paid")):
            invoice = h.invoice(
                f"in_sq{i}",
                cus,
                sub,
                status=status,
                created=paid_at,
                amount=4900,
                charge=f"ch_sq{i}",
                billing_reason="subscription_cycle",
                **month,
            )
            events.append(h.event(type_, invoice, created=paid_at))
    return events


def _post(url: str, event: dict) -> int:
    body = json.dumps(event).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Stripe-Signature", h.signature(body, SECRET))
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_fifty_events_posted_at_once_are_all_stored_and_processed(sqlite_server):
    url, database = sqlite_server
    events = _events()

    # Eight at a time: as many as runserver keeps waiting in its listen queue (10) without refusing.
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda event: _post(url, event), events))

    assert statuses == [200] * len(events), f"{sum(s != 200 for s in statuses)} of {len(events)} not stored"
    with sqlite3.connect(database) as db:
        stored = dict(db.execute("SELECT status, COUNT(*) FROM billing_webhookevent GROUP BY status").fetchall())
        invoices = db.execute("SELECT status, amount_paid FROM billing_invoice").fetchall()
        subscriptions = db.execute("SELECT status FROM billing_subscription").fetchall()
    assert stored == {"processed": len(events)}
    assert invoices == [("paid", 4900)] * LEARNERS
    assert subscriptions == [("active",)] * LEARNERS
