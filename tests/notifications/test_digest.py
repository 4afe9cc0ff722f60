"""The daily digest: one e-mail per user per day with their digest notifications since the last one."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from notifications import api, services, tasks
from notifications.models import Digest, EmailOutbox, Notification
from notifications.services import outbox
from tests.factories import UserFactory
from tests.notifications.kinds import DAILY, DEMO, QUIET


@pytest.fixture
def now():
    return timezone.now() + datetime.timedelta(seconds=1)


def daily(user, n, **extra):
    api.notify(event_key=f"demo.daily:{n}", kind=DAILY, recipient_ids=[user.pk], title=f"News {n}", **extra)


def deliver(now):
    services.outbox_deliver_due(now=now)


def test_running_the_digest_twice_a_day_sends_one_email_listing_everything_waiting(db, now):
    ada = UserFactory(name="Ada")
    daily(ada, 1, body="The week 2 quiz is open.", url="/courses/")
    daily(ada, 2)

    assert services.digests_send(now=now) == 1
    assert services.digests_send(now=now) == 0
    deliver(now)

    [message] = mail.outbox
    assert message.subject == "[Deep Learning] Your daily digest: 2 new notifications"
    assert "* News 1\n  Demo daily news · " in message.body
    assert "The week 2 quiz is open." in message.body and "http://127.0.0.1:8000/courses/" in message.body
    assert "* News 2" in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{api.unsubscribe_url(user_id=ada.pk, kind='digest')}>"
    assert message.alternatives and "News 1" in message.alternatives[0][0]
    digest = Digest.objects.get()
    assert (digest.user_id, digest.date, digest.item_count) == (ada.pk, timezone.localdate(now), 2)
    assert set(Notification.objects.values_list("digest_id", flat=True)) == {digest.pk}


def test_the_task_run_twice_sends_once(db):
    ada = UserFactory()
    daily(ada, 1)

    tasks.send_digests()
    tasks.send_digests()
    tasks.deliver_pending()

    assert len(mail.outbox) == 1
    assert EmailOutbox.objects.get().kind == "digest"


def test_the_next_days_digest_lists_only_what_came_after(db, now):
    ada = UserFactory()
    daily(ada, 1)
    services.digests_send(now=now)
    daily(ada, 2)
    later = now + datetime.timedelta(days=1)

    assert services.digests_send(now=later) == 1
    deliver(later)

    first, second = mail.outbox
    assert "News 1" in first.body and "News 2" not in first.body
    assert "News 2" in second.body and "News 1" not in second.body
    assert second.subject.endswith("1 new notification")


def test_items_that_arrive_after_todays_digest_wait_for_tomorrow(db, now):
    ada = UserFactory()
    daily(ada, 1)
    services.digests_send(now=now)
    daily(ada, 2)

    assert services.digests_send(now=now + datetime.timedelta(hours=1)) == 0
    assert Notification.objects.get(title="News 2").digest_id is None


def test_immediate_and_no_email_kinds_stay_out_of_the_digest(db, now):
    ada = UserFactory()
    api.notify(event_key="demo.event:1", kind=DEMO, recipient_ids=[ada.pk], title="Sent right away")
    api.notify(event_key="demo.quiet:1", kind=QUIET, recipient_ids=[ada.pk], title="Never e-mailed")

    assert services.digests_send(now=now) == 0
    assert not Digest.objects.exists()


def test_a_kind_turned_off_after_it_was_waiting_is_left_out(db, now):
    ada = UserFactory()
    daily(ada, 1)
    api.notify(event_key="demo.event:2", kind=DEMO, recipient_ids=[ada.pk], title="Other news")
    Notification.objects.filter(kind=DEMO).update(email="digest")
    api.set_preference(user_id=ada.pk, kind=DAILY, email=api.EMAIL_NONE)

    services.digests_send(now=now)
    services.outbox_deliver_due(now=now)

    digest_mail = [message for message in mail.outbox if "digest" in message.subject]
    assert len(digest_mail) == 1
    assert "Other news" in digest_mail[0].body and "News 1" not in digest_mail[0].body
    assert Notification.objects.filter(digest__isnull=True).count() == 0  # both rows are done with


def test_a_user_deactivated_while_items_waited_gets_no_digest_but_the_items_are_done(db, now):
    ada = UserFactory()
    daily(ada, 1)
    ada.is_active = False
    ada.save()

    assert services.digests_send(now=now) == 0
    assert not EmailOutbox.objects.exists()
    assert Notification.objects.get().digest_id == Digest.objects.get().pk


def test_each_user_gets_their_own_digest(db, now):
    ada, alan = UserFactory(), UserFactory()
    daily(ada, 1)
    api.notify(event_key="demo.daily:2", kind=DAILY, recipient_ids=[ada.pk, alan.pk], title="For both")

    assert services.digests_send(now=now) == 2
    deliver(now)

    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "News 1" in bodies[ada.email] and "News 1" not in bodies[alan.email]
    assert "For both" in bodies[ada.email] and "For both" in bodies[alan.email]


def test_two_digest_runs_at_once_send_one_email_per_user(transactional_db, monkeypatch, now):
    monkeypatch.setattr(outbox, "_queue_delivery", lambda ids: None)  # delivered below, not via a broker
    users = [UserFactory() for _ in range(6)]
    api.notify(event_key="demo.daily:1", kind=DAILY, recipient_ids=[user.pk for user in users], title="For all")
    start = threading.Barrier(2)
    counts = []

    def run():
        try:
            start.wait(timeout=20)
            counts.append(services.digests_send(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    services.outbox_deliver_due(now=now)

    assert sum(counts) == 6
    assert sorted(message.to[0] for message in mail.outbox) == sorted(user.email for user in users)
    assert Digest.objects.count() == 6


def test_the_operator_commands_queue_and_send_the_digests(db):
    from io import StringIO

    from django.core.management import call_command

    daily(UserFactory(), 1)
    out = StringIO()
    call_command("send_digests", stdout=out)
    call_command("send_digests", stdout=out)
    call_command("deliver_outbox", stdout=out)

    assert out.getvalue().splitlines() == [
        "1 digest(s) queued",
        "0 digest(s) queued",
        "sent 1, retrying later 0, failed 0, cancelled 0, handed back 0, lost lease 0",
    ]
    assert len(mail.outbox) == 1
