"""The outbox: claim with SKIP LOCKED and a lease, send, record; retries, leases that expire, failures."""

import datetime
import threading
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from notifications import api, services, tasks
from notifications.models import EmailOutbox
from notifications.services import outbox
from tests.factories import UserFactory
from tests.notifications.kinds import DEMO


def seconds(n: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=n)


@pytest.fixture
def t0():
    """ "Now" for the services under test: just after the rows the test writes (they use the real clock)."""
    return timezone.now() + datetime.timedelta(seconds=1)


@pytest.fixture
def queued(monkeypatch):
    """The task messages notify() would send to the broker after a commit, recorded instead, so that these
    tests decide who delivers and when."""
    sent: list[int] = []
    monkeypatch.setattr(outbox, "_queue_delivery", sent.extend)
    return sent


def notify(recipients, **extra):
    return api.notify(
        event_key=extra.pop("event_key", "demo.event:1"),
        kind=DEMO,
        recipient_ids=[user.pk for user in recipients],
        title=extra.pop("title", "Grace replied in “Vanishing gradients”"),
        body=extra.pop("body", "Try a ReLU and He initialization."),
        url=extra.pop("url", "/courses/"),
        **extra,
    )


def test_a_sent_email_has_the_prefix_a_plain_text_part_a_footer_and_one_click_unsubscribe_headers(t0, db, settings):
    ada = UserFactory(email="ada@example.com", name="Ada Lovelace")
    notify([ada])

    report = services.outbox_deliver_due(now=t0)

    assert report.sent == 1
    [message] = mail.outbox
    row = EmailOutbox.objects.get()
    unsubscribe = api.unsubscribe_url(user_id=ada.pk, kind=DEMO)
    assert message.subject == "[Deep Learning] Grace replied in “Vanishing gradients”"
    assert message.to == ["ada@example.com"]
    assert message.body.startswith("Hello Ada Lovelace,\n\nGrace replied in “Vanishing gradients”\n\nTry a ReLU")
    assert f"Open it: {settings.SITE_URL}/courses/" in message.body
    assert settings.SITE_NAME in message.body.split("\n-- \n", 1)[1]  # the site name in the footer
    assert f"Stop these e-mails (one click): {unsubscribe}" in message.body
    assert message.alternatives == []  # no HTML given: plain text only
    parsed = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "text/plain"
    assert parsed["List-Unsubscribe"].strip() == f"<{unsubscribe}>"  # folded: it is long
    assert unsubscribe.startswith(settings.SITE_URL + "/notifications/unsubscribe/")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Message-ID"] == row.message_id
    assert row.status == "sent" and row.sent_at == t0 and row.to_email == "ada@example.com" and row.attempts == 1


def test_html_is_an_alternative_to_the_plain_text_never_instead_of_it(t0, db):
    ada = UserFactory(name="Ada")
    notify([ada], email_html="<p>Try a <b>ReLU</b>.</p>", email_subject="A reply for you", email_text="Plain words.")
    services.outbox_deliver_due(now=t0)

    [message] = mail.outbox
    parsed = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.get_payload()] == ["text/plain", "text/html"]
    assert message.subject == "[Deep Learning] A reply for you"
    assert "Plain words." in message.body
    html = message.alternatives[0][0]
    assert "<b>ReLU</b>" in html and api.unsubscribe_url(user_id=ada.pk, kind=DEMO) in html


def test_the_message_id_belongs_to_the_row_and_stays_the_same_on_every_attempt(t0, db, settings):
    ada = UserFactory()
    notify([ada])
    row = EmailOutbox.objects.get()
    settings.EMAIL_BACKEND = "tests.notifications.backends.DisconnectingBackend"
    services.outbox_deliver_due(now=t0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.outbox_deliver_due(now=t0 + seconds(3600))

    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == row.message_id
    assert row.message_id.startswith("<notification.") and row.message_id.endswith(">")
    assert EmailOutbox.objects.get().attempts == 2


def test_two_workers_claiming_at_once_never_take_the_same_row(t0, transactional_db, queued):
    notify([UserFactory() for _ in range(12)])
    a_claimed, b_finished = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def worker_a():
        try:
            with transaction.atomic():  # keeps its claim's row locks until B has claimed too
                results["a"] = services.outbox_claim(now=t0, limit=5)
                a_claimed.set()
                # SKIP LOCKED: B passes over A's locked rows instead of waiting for A to commit.
                results["b_did_not_wait"] = b_finished.wait(timeout=60)
        finally:
            connection.close()

    def worker_b():
        try:
            a_claimed.wait(timeout=60)
            results["b"] = services.outbox_claim(now=t0, limit=100)
        finally:
            b_finished.set()
            connection.close()

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    a_ids = {claim.outbox_id for claim in results["a"]}
    b_ids = {claim.outbox_id for claim in results["b"]}
    assert results["b_did_not_wait"]
    assert len(a_ids) == 5 and len(b_ids) == 7
    assert a_ids.isdisjoint(b_ids)
    assert a_ids | b_ids == set(EmailOutbox.objects.values_list("pk", flat=True))
    assert set(EmailOutbox.objects.values_list("status", flat=True)) == {"sending"}


def test_two_sweeps_at_once_send_every_email_exactly_once(transactional_db, queued):
    notify([UserFactory() for _ in range(30)])
    start = threading.Barrier(2)
    reports = []

    def sweep():
        try:
            start.wait(timeout=20)
            reports.append(services.outbox_deliver_due(batch=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    message_ids = [message.extra_headers["Message-ID"] for message in mail.outbox]
    assert len(message_ids) == 30 and len(set(message_ids)) == 30
    assert sum(report.sent for report in reports) == 30
    assert set(EmailOutbox.objects.values_list("status", flat=True)) == {"sent"}


def test_an_email_abandoned_mid_send_is_sent_again_once_its_lease_expires(t0, db, settings):
    notify([UserFactory()])
    abandoned = services.outbox_claim(now=t0, limit=10)  # this worker is killed before it sends
    lease = settings.NOTIFICATIONS_LEASE_SECONDS

    assert services.outbox_deliver_due(now=t0 + seconds(lease - 1)).sent == 0  # still leased
    assert services.outbox_deliver_due(now=t0 + seconds(lease + 1)).sent == 1

    row = EmailOutbox.objects.get()
    assert len(mail.outbox) == 1 and row.status == "sent" and row.attempts == 2
    # The killed worker's claim is worthless now: it sends nothing and records nothing.
    assert services.outbox_send(claims=abandoned, now=t0 + seconds(lease + 2)) == services.DeliveryReport()
    assert len(mail.outbox) == 1


def test_a_row_abandoned_on_every_attempt_ends_failed_instead_of_looping(t0, db, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    notify([UserFactory()])
    lease = seconds(settings.NOTIFICATIONS_LEASE_SECONDS + 1)
    services.outbox_claim(now=t0, limit=1)
    services.outbox_claim(now=t0 + lease, limit=1)  # killed again

    services.outbox_deliver_due(now=t0 + 2 * lease)

    row = EmailOutbox.objects.get()
    assert row.status == "failed" and "stopped 2 times" in row.last_error
    assert mail.outbox == []


def test_a_failing_send_is_retried_with_backoff_and_then_marked_failed(t0, db, settings):
    settings.EMAIL_BACKEND = "tests.notifications.backends.DisconnectingBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 60
    notify([UserFactory()])

    assert services.outbox_deliver_due(now=t0).retrying == 1
    row = EmailOutbox.objects.get()
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, t0 + seconds(60))
    assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"

    assert services.outbox_deliver_due(now=t0 + seconds(59)) == services.DeliveryReport()  # backing off
    assert services.outbox_deliver_due(now=t0 + seconds(60)).retrying == 1
    row.refresh_from_db()
    assert (row.attempts, row.next_attempt_at) == (2, t0 + seconds(60 + 120))

    assert services.outbox_deliver_due(now=t0 + seconds(180)).failed == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.lease_expires_at) == ("failed", 3, None)
    assert services.outbox_deliver_due(now=t0 + seconds(10**6)) == services.DeliveryReport()  # stays failed


def test_a_failed_email_sent_again_after_a_retry_from_the_admin_action(
    t0, db, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.notifications.backends.DisconnectingBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    notify([UserFactory()])
    services.outbox_deliver_due(now=t0)
    row = EmailOutbox.objects.get()
    assert row.status == "failed"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.outbox_retry(outbox_ids=[row.pk], now=t0 + seconds(600)) == 1
    assert len(callbacks) == 1  # delivery queued after the commit
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    services.outbox_deliver_one(outbox_id=row.pk, now=t0 + seconds(600))
    assert len(mail.outbox) == 1


def test_when_the_mail_server_is_down_every_claimed_row_waits_for_its_next_attempt(t0, db, settings):
    settings.EMAIL_BACKEND = "tests.notifications.backends.UnreachableBackend"
    notify([UserFactory() for _ in range(3)])

    report = services.outbox_deliver_due(now=t0)

    assert report.retrying == 3
    assert set(EmailOutbox.objects.values_list("status", "attempts")) == {("pending", 1)}
    assert "Connection refused" in EmailOutbox.objects.first().last_error


def test_a_recipient_deactivated_before_sending_gets_nothing(t0, db):
    ada = UserFactory()
    notify([ada])
    ada.is_active = False
    ada.save()

    assert services.outbox_deliver_due(now=t0).cancelled == 1
    assert mail.outbox == []
    assert EmailOutbox.objects.get().status == "cancelled"


def test_an_email_turned_off_before_sending_is_not_sent(t0, db):
    ada = UserFactory()
    notify([ada])
    api.set_preference(user_id=ada.pk, kind=DEMO, email=api.EMAIL_NONE)

    assert services.outbox_deliver_due(now=t0).cancelled == 1
    assert mail.outbox == []


def test_a_send_that_might_outlast_the_lease_is_handed_back_unsent(t0, db, settings):
    settings.NOTIFICATIONS_LEASE_SECONDS = 10
    settings.EMAIL_TIMEOUT = 30
    notify([UserFactory()])

    report = services.outbox_send(claims=services.outbox_claim(now=t0, limit=1), now=t0)

    assert report.released == 1 and mail.outbox == []
    row = EmailOutbox.objects.get()
    assert (row.status, row.attempts, row.lease_expires_at) == ("pending", 0, None)


def test_the_task_sends_its_row_once_and_ignores_a_duplicate_message(db):
    notify([UserFactory()])
    row = EmailOutbox.objects.get()

    tasks.deliver_email(row.pk)
    tasks.deliver_email(row.pk)  # the broker delivered the message twice

    assert len(mail.outbox) == 1


def test_the_sweep_task_sends_what_no_task_was_queued_for(db):
    notify([UserFactory(), UserFactory()])

    tasks.deliver_pending()

    assert len(mail.outbox) == 2
    assert set(EmailOutbox.objects.values_list("status", flat=True)) == {"sent"}


def test_a_row_not_yet_due_is_left_for_later(db):
    notify([UserFactory()])
    EmailOutbox.objects.update(next_attempt_at=timezone.now() + seconds(3600))

    tasks.deliver_pending()

    assert mail.outbox == []


def test_each_recipient_of_one_event_gets_their_own_name_and_unsubscribe_link(t0, db):
    ada = UserFactory(email="ada@example.com", name="Ada <Countess> O'Lovelace")
    alan = UserFactory(email="alan@example.com", name="Alan Turing")
    notify([ada, alan], email_html="<p>Try a <b>ReLU</b>.</p>")
    services.outbox_deliver_due(now=t0)

    by_address = {message.to[0]: message for message in mail.outbox}
    for user, other in ((ada, alan), (alan, ada)):
        message = by_address[user.email]
        link = api.unsubscribe_url(user_id=user.pk, kind=DEMO)
        assert message.body.startswith(f"Hello {user.name},")  # plain text: the name as written
        assert link in message.body and api.unsubscribe_url(user_id=other.pk, kind=DEMO) not in message.body
        assert link in message.alternatives[0][0] and other.name not in message.body
    assert "Hello Ada &lt;Countess&gt; O&#x27;Lovelace," in by_address[ada.email].alternatives[0][0]
