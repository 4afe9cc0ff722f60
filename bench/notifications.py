"""Notifications benchmark: the cost of notify() in the caller's transaction, and of sending the outbox,
each measured against a baseline in the same run.

    .venv/bin/python bench/notifications.py [--recipients N] [--repeat R]

- notify() to N recipients, in-site only (preference "none") and with an immediate e-mail each, against
  the bare minimum for the same rows: one bulk_create of N Notification rows;
- the outbox sweep for N e-mails (claim with SKIP LOCKED, send over Django's locmem mail backend, record),
  against building and sending the same N messages with no database at all.

Uses its own PostgreSQL database (mooc_bench_notifications, created and migrated when missing; override
with DATABASE_URL) and never commits the measured rows: every run happens in a transaction that is rolled
back, or in rows it deletes again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = "mooc_bench_notifications"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.update(
    {
        # The test settings: DEBUG off, locmem e-mail, static files without a collectstatic manifest.
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "LOG_LEVEL": "WARNING",
    }
)
sys.path.insert(0, str(ROOT))


class Rollback(Exception):
    pass


def timed(fn, repeat: int) -> float:
    """Median seconds of `repeat` runs of fn()."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.recipients

    if os.environ["DATABASE_URL"].endswith(f"/{DB}"):
        exists = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SELECT datname FROM pg_database"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        if DB not in exists:
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)

    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from notifications import api, emails, registry, services
    from notifications.models import EmailOutbox, Notification, Preference
    from notifications.services import outbox

    call_command("migrate", verbosity=0)
    mail.outbox = []
    outbox._queue_delivery = lambda ids: None  # measure the caller's side; the sweep is measured below
    registry.register_kind("bench.event", label="Benchmark events")
    registry.register_kind("bench.quiet", label="Benchmark quiet events", default_email="none")

    prefix = "bench-notifications-"
    users = list(User.objects.filter(email__startswith=prefix).order_by("pk")[:n])
    if len(users) < n:
        User.objects.bulk_create(
            [User(email=f"{prefix}{i}@example.com", name=f"Learner {i}") for i in range(len(users), n)]
        )
        users = list(User.objects.filter(email__startswith=prefix).order_by("pk")[:n])
    ids = [user.pk for user in users]
    counter = iter(range(10**9))

    def rolled_back(fn):
        def run():
            try:
                with transaction.atomic():
                    fn()
                    raise Rollback
            except Rollback:
                pass

        return run

    def baseline_rows():
        now = timezone.now()
        key = f"bench:{next(counter)}"
        Notification.objects.bulk_create(
            [
                Notification(recipient_id=i, kind="bench.quiet", event_key=key, title="T", created_at=now, email="none")
                for i in ids
            ]
        )

    def notify(kind):
        def run():
            api.notify(event_key=f"bench:{next(counter)}", kind=kind, recipient_ids=ids, title="Grace replied")

        return run

    base = timed(rolled_back(baseline_rows), args.repeat)
    quiet = timed(rolled_back(notify("bench.quiet")), args.repeat)
    emailed = timed(rolled_back(notify("bench.event")), args.repeat)

    # The sweep: N committed outbox rows, sent and recorded; then removed again.
    def sweep_once():
        key = f"bench:{next(counter)}"
        api.notify(event_key=key, kind="bench.event", recipient_ids=ids, title="Grace replied")
        mail.outbox = []
        start = time.perf_counter()
        report = services.outbox_deliver_due(batch=20, max_batches=10**6)
        took = time.perf_counter() - start
        assert report.sent == n and len(mail.outbox) == n, report
        EmailOutbox.objects.filter(event_key=key).delete()
        Notification.objects.filter(event_key=key).delete()
        return took

    sweep = statistics.median(sweep_once() for _ in range(max(1, args.repeat // 2)))

    def bare_send():
        from django.core.mail import get_connection

        connection = get_connection()
        messages = [
            emails.build_message(
                subject="[Deep Learning] Grace replied",
                text="Hello,\n\nGrace replied\n",
                html="",
                to_email=user.email,
                message_id=emails.message_id_new(),
                user_id=user.pk,
                kind="bench.event",
                connection=connection,
            )
            for user in users
        ]
        connection.send_messages(messages)
        mail.outbox = []

    bare = timed(bare_send, args.repeat)
    Preference.objects.filter(user_id__in=ids).delete()

    print(f"notify() to {n} recipients (median of {args.repeat}, PostgreSQL, rolled back):")
    print(f"  baseline: bulk_create of {n} notification rows  {base * 1000:8.1f} ms")
    print(f"  in-site only (preference none)                 {quiet * 1000:8.1f} ms  = {quiet / base:5.2f}x baseline")
    print(
        f"  with an immediate e-mail each (rendered)       {emailed * 1000:8.1f} ms  = {emailed / base:5.2f}x baseline"
    )
    print(f"outbox sweep of {n} e-mails (claim, send via locmem, record):")
    print(f"  baseline: build and send {n} messages, no database {bare * 1000:6.1f} ms")
    print(
        f"  sweep                                          {sweep * 1000:8.1f} ms  = {sweep / bare:5.2f}x baseline"
        f"  ({n / sweep:,.0f} e-mails/s)"
    )


if __name__ == "__main__":
    main()
