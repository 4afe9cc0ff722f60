"""notify(): idempotent per event and recipient, e-mail routed by each recipient's preference."""

import dataclasses

import pytest
from django.core import mail
from django.db import transaction

from notifications import api
from notifications.models import EmailOutbox, Notification
from tests.factories import UserFactory
from tests.notifications.kinds import DAILY, DEMO, QUIET, STAFF


def notify(recipients, *, event_key="demo.event:1", kind=DEMO, **extra):
    return api.notify(
        event_key=event_key,
        kind=kind,
        recipient_ids=[user.pk for user in recipients],
        title=extra.pop("title", "Grace replied in “Vanishing gradients”"),
        url=extra.pop("url", "/courses/"),
        **extra,
    )


def test_the_same_event_twice_makes_one_notification_and_one_email_each(db):
    ada, alan = UserFactory(), UserFactory()

    assert notify([ada, alan]) == 2
    assert notify([ada, alan]) == 0

    assert Notification.objects.filter(event_key="demo.event:1").count() == 2
    assert EmailOutbox.objects.filter(event_key="demo.event:1").count() == 2


def test_a_retry_with_more_recipients_adds_only_the_new_ones(db):
    ada, alan, grace = UserFactory(), UserFactory(), UserFactory()
    notify([ada])

    assert notify([ada, alan, grace, alan]) == 2
    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted([ada.pk, alan.pk, grace.pk])


def test_different_events_for_the_same_recipient_are_separate_notifications(db):
    ada = UserFactory()
    notify([ada], event_key="demo.event:1")
    notify([ada], event_key="demo.event:2")

    assert api.unread_count(ada) == 2


def test_a_deleted_notification_is_not_emailed_again_on_retry(db):
    ada = UserFactory()
    notify([ada])
    Notification.objects.all().delete()  # staff removed it; its e-mail row stays

    assert notify([ada]) == 1
    assert EmailOutbox.objects.count() == 1


def test_unknown_kind_is_refused_and_nothing_is_stored(db):
    ada = UserFactory()
    with pytest.raises(api.UnknownKind, match=r"forum\.typo"):
        notify([ada], kind="forum.typo")
    assert not Notification.objects.exists()


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil", "x/y"])
def test_a_url_that_is_not_a_same_site_path_is_refused(db, url):
    with pytest.raises(api.InvalidNotification, match="same-site path"):
        notify([UserFactory()], url=url)
    assert not Notification.objects.exists()


@pytest.mark.parametrize("event_key", ["", " demo:1", "x" * 201])
def test_an_event_key_must_be_given_and_tidy(db, event_key):
    with pytest.raises(api.InvalidNotification, match="event_key"):
        notify([UserFactory()], event_key=event_key)


def test_recipient_ids_must_be_ids(db):
    ada = UserFactory()
    with pytest.raises(api.InvalidNotification, match="recipient_ids"):
        api.notify(event_key="demo.event:1", kind=DEMO, recipient_ids=[ada], title="Hi")


def test_the_actor_is_not_notified_of_their_own_action(db):
    ada, alan = UserFactory(), UserFactory()

    assert notify([ada, alan], actor_id=ada.pk) == 1
    assert list(Notification.objects.values_list("recipient_id", "actor_id")) == [(alan.pk, ada.pk)]


def test_a_staff_only_kind_reaches_staff_only(db):
    learner, staff = UserFactory(), UserFactory(is_staff=True)

    assert notify([learner, staff], kind=STAFF) == 1
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [staff.pk]


def test_missing_users_are_skipped(db):
    ada = UserFactory()
    assert api.notify(event_key="demo.event:1", kind=DEMO, recipient_ids=[ada.pk, 987654321], title="Hi") == 1


def test_long_titles_are_cut_to_one_line(db):
    ada = UserFactory()
    notify([ada], title="A\nvery " + "long " * 80 + "title")

    title = Notification.objects.get().title
    assert len(title) == 200 and title.endswith("…") and "\n" not in title


def test_email_follows_each_recipients_preference(db):
    immediate, digest, off = UserFactory(), UserFactory(), UserFactory()
    api.set_preference(user_id=digest.pk, kind=DEMO, email=api.EMAIL_DIGEST)
    api.set_preference(user_id=off.pk, kind=DEMO, email=api.EMAIL_NONE)

    notify([immediate, digest, off])

    assert list(EmailOutbox.objects.values_list("recipient_id", flat=True)) == [immediate.pk]
    routes = dict(Notification.objects.values_list("recipient_id", "email"))
    assert routes == {immediate.pk: "immediate", digest.pk: "digest", off.pk: "none"}


def test_a_kinds_default_applies_until_the_user_chooses(db):
    ada = UserFactory()
    notify([ada], kind=DAILY, event_key="daily:1")
    notify([ada], kind=QUIET, event_key="quiet:1")

    assert dict(Notification.objects.values_list("kind", "email")) == {DAILY: "digest", QUIET: "none"}
    assert not EmailOutbox.objects.exists()
    assert api.preference_for(user_id=ada.pk, kind=DAILY) == api.EMAIL_DIGEST


def test_inactive_users_and_users_without_an_address_get_the_notification_but_no_email(db):
    inactive = UserFactory(is_active=False)
    no_address = UserFactory(email="")
    digest_but_inactive = UserFactory(is_active=False)
    api.set_preference(user_id=digest_but_inactive.pk, kind=DEMO, email=api.EMAIL_DIGEST)

    assert notify([inactive, no_address, digest_but_inactive]) == 3

    assert not EmailOutbox.objects.exists()
    assert set(Notification.objects.values_list("email", flat=True)) == {"none"}  # the digest will skip them too


def test_an_immediate_email_is_sent_after_the_commit(db, celery_eager, django_capture_on_commit_callbacks):
    ada = UserFactory(email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([ada])
        assert mail.outbox == []  # nothing leaves before the caller's transaction commits
    for callback in callbacks:
        callback()

    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert EmailOutbox.objects.get().status == "sent"


def test_nothing_is_stored_or_sent_when_the_callers_transaction_rolls_back(db, django_capture_on_commit_callbacks):
    ada = UserFactory()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        notify([ada])
        raise RuntimeError("the forum post failed to save")

    assert callbacks == []
    assert not Notification.objects.exists() and not EmailOutbox.objects.exists()


def test_fanning_out_to_more_recipients_costs_no_more_queries(db):
    few = [UserFactory() for _ in range(2)]
    many = [UserFactory() for _ in range(25)]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        notify(few, event_key="demo.event:few")
    with CaptureQueriesContext(connection) as large:
        notify(many, event_key="demo.event:many")

    assert len(large.captured_queries) == len(small.captured_queries)
    assert Notification.objects.filter(event_key="demo.event:many").count() == 25


def test_recent_for_gives_frozen_views_newest_first_and_mark_read_counts(db):
    ada = UserFactory()
    for n in range(3):
        notify([ada], event_key=f"demo.event:{n}", title=f"Event {n}")

    recent = api.recent_for(ada, limit=2)
    assert [item.title for item in recent] == ["Event 2", "Event 1"]
    assert recent[0].kind_label == "Demo events" and not recent[0].is_read
    with pytest.raises(dataclasses.FrozenInstanceError):
        recent[0].title = "changed"

    assert api.mark_read(ada, [recent[0].id]) == 1
    assert api.unread_count(ada) == 2
    assert api.mark_read(ada) == 2
    assert api.unread_count(ada) == 0


def test_mark_read_never_touches_another_users_notifications(db):
    ada, alan = UserFactory(), UserFactory()
    notify([ada, alan])
    alans = Notification.objects.get(recipient=alan)

    assert api.mark_read(ada, [alans.pk]) == 0
    assert api.unread_count(alan) == 1


def test_a_learner_cannot_choose_email_for_a_staff_only_kind(db):
    learner = UserFactory()
    with pytest.raises(api.PreferenceRefused, match="staff only"):
        api.set_preference(user_id=learner.pk, kind=STAFF, email=api.EMAIL_DIGEST)


def test_an_unknown_email_choice_is_refused(db):
    learner = UserFactory()
    with pytest.raises(api.PreferenceRefused, match="Choose one of"):
        api.set_preference(user_id=learner.pk, kind=DEMO, email="hourly")
    assert api.preference_for(user_id=learner.pk, kind=DEMO) == api.EMAIL_IMMEDIATE


def test_registering_a_kind_twice_the_same_way_is_harmless_but_a_clash_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    api.register_kind(DEMO, label="Demo events", description="Something happened in a test.")
    with pytest.raises(ImproperlyConfigured, match="different definition"):
        api.register_kind(DEMO, label="Something else")
    with pytest.raises(ImproperlyConfigured, match=r"app\.name"):
        api.register_kind("nodot", label="No namespace")
    with pytest.raises(ImproperlyConfigured, match="default_email"):
        api.register_kind("demo.weekly", label="Weekly", default_email="weekly")
