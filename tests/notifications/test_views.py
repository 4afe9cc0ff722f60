"""Pages: the header bell, the list, opening a notification, preferences, one-click unsubscribe, admin."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notifications import api
from notifications.models import EmailOutbox, Notification, Preference
from tests.factories import NotificationFactory, UserFactory
from tests.notifications.kinds import DAILY, DEMO, STAFF


@pytest.fixture
def ada_client(client, learner):
    client.force_login(learner)
    return client


def notify(user, n=1, **extra):
    return api.notify(
        event_key=f"demo.event:{n}",
        kind=DEMO,
        recipient_ids=[user.pk],
        title=extra.pop("title", f"Event {n}"),
        url=extra.pop("url", "/courses/"),
        **extra,
    )


# ---- the header bell ------------------------------------------------------------------------------


@pytest.fixture
def catalog(db):
    """A course, so the catalog page (any page with the header would do) has something to show."""
    from tests.factories import CourseFactory

    return CourseFactory(title="Neural Networks and Deep Learning")


def bell_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    touching = [query["sql"] for query in queries.captured_queries if "notifications_notification" in query["sql"]]
    return response, touching, len(queries.captured_queries)


def test_the_header_bell_costs_one_query_however_many_are_unread(ada_client, learner, catalog):
    response, touching, total_with_none = bell_queries(ada_client, "/courses/")
    assert len(touching) == 1
    assert 'aria-label="Notifications, none unread"' in response.content.decode()

    NotificationFactory.create_batch(40, recipient=learner)
    response, touching, total_with_forty = bell_queries(ada_client, "/courses/")

    assert len(touching) == 1
    assert total_with_forty == total_with_none
    html = response.content.decode()
    assert 'aria-label="Notifications, 40 unread"' in html
    assert re.search(r'<span class="bell-count" data-unread-count aria-hidden="true">40</span>', html)


def test_the_bell_shows_99_plus_for_a_large_backlog(ada_client, learner, catalog):
    NotificationFactory.create_batch(120, recipient=learner)
    html = ada_client.get("/courses/").content.decode()
    assert 'aria-label="Notifications, 99+ unread"' in html


def test_visitors_see_no_bell_and_cost_no_query(client, catalog):
    response, touching, _ = bell_queries(client, "/courses/")
    assert touching == []
    assert 'id="notification-bell"' not in response.content.decode()


# ---- the list and opening a notification ------------------------------------------------------------


def test_the_list_shows_newest_first_with_unread_ones_marked(ada_client, learner):
    notify(learner, 1, title="Older news", body="Details of the older one")
    notify(learner, 2, title="Newer news")
    Notification.objects.filter(title="Older news").update(read_at="2026-01-01T00:00Z")

    html = ada_client.get("/notifications/").content.decode()

    assert html.index("Newer news") < html.index("Older news")
    assert html.count('class="notification is-unread"') == 1
    assert "Details of the older one" in html and "Demo events" in html


def test_the_list_asks_visitors_to_log_in(client, db):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(ada_client, learner):
    notify(learner, url="/courses/neural-networks/")
    notification = Notification.objects.get()

    response = ada_client.get(f"/notifications/{notification.pk}/open/")

    assert response.status_code == 302 and response["Location"] == "/courses/neural-networks/"
    assert api.unread_count(learner) == 0


def test_a_notification_pointing_off_site_opens_the_list_instead(ada_client, learner):
    notification = NotificationFactory(recipient=learner, url="https://evil.example/")  # written past the checks

    response = ada_client.get(f"/notifications/{notification.pk}/open/")

    assert response["Location"] == "/notifications/"


def test_someone_elses_notification_is_not_found_and_stays_unread(ada_client):
    other = NotificationFactory()

    assert ada_client.get(f"/notifications/{other.pk}/open/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read_without_javascript(ada_client, learner):
    notify(learner, 1)
    notify(learner, 2)

    response = ada_client.post("/notifications/read/", follow=True)

    assert api.unread_count(learner) == 0
    assert "All notifications are marked read." in response.content.decode()


def test_mark_all_read_with_htmx_swaps_the_list_and_the_bell(ada_client, learner):
    notify(learner, 1)

    response = ada_client.post("/notifications/read/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="notification-region">')
    assert 'id="notification-bell"' in html and 'hx-swap-oob="true"' in html
    assert 'aria-label="Notifications, none unread"' in html
    assert "<html" not in html


def test_mark_all_read_needs_a_post(ada_client):
    assert ada_client.get("/notifications/read/").status_code == 405


# ---- preferences ------------------------------------------------------------------------------------


def test_preferences_show_each_kind_with_its_current_choice(ada_client, learner):
    api.set_preference(user_id=learner.pk, kind=DEMO, email=api.EMAIL_NONE)

    html = ada_client.get("/notifications/preferences/").content.decode()

    assert "Demo events" in html and "Demo daily news" in html
    assert "Demo staff alerts" not in html  # staff only
    assert re.search(r'<input type="radio" name="kind-demo-event" value="none"[^>]*checked', html)
    assert re.search(r'<input type="radio" name="kind-demo-daily" value="digest"[^>]*checked', html)


def test_staff_see_staff_only_kinds(client, staff):
    client.force_login(staff)
    assert "Demo staff alerts" in client.get("/notifications/preferences/").content.decode()


def test_saving_preferences_stores_only_what_differs_from_the_default(ada_client, learner):
    response = ada_client.post(
        "/notifications/preferences/",
        {"kind-demo-event": "digest", "kind-demo-daily": "digest", "kind-demo-quiet": "none"},
        follow=True,
    )

    assert "Your e-mail choices are saved." in response.content.decode()
    assert list(Preference.objects.values_list("kind", "email")) == [(DEMO, "digest")]
    assert api.preference_for(user_id=learner.pk, kind=DAILY) == "digest"


def test_a_bad_preference_value_is_refused_and_nothing_changes(ada_client, learner):
    response = ada_client.post(
        "/notifications/preferences/",
        {"kind-demo-event": "hourly", "kind-demo-daily": "none", "kind-demo-quiet": "none"},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_learner_cannot_post_a_staff_only_kind(ada_client, learner):
    ada_client.post(
        "/notifications/preferences/",
        {
            "kind-demo-event": "immediate",
            "kind-demo-daily": "digest",
            "kind-demo-quiet": "none",
            "kind-demo-staff": "none",
        },
    )
    assert not Preference.objects.filter(kind=STAFF).exists()


# ---- one-click unsubscribe --------------------------------------------------------------------------


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_an_unsubscribe_link_asks_first_without_a_log_in_and_changes_nothing_on_get(client, learner):
    url = path_of(api.unsubscribe_url(user_id=learner.pk, kind=DEMO))

    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Stop “Demo events” e-mails?" in html and "a•••@example.com" in html
    assert '<meta name="robots" content="noindex">' in html
    assert api.preference_for(user_id=learner.pk, kind=DEMO) == "immediate"


def test_confirming_turns_that_kind_off(client, learner):
    url = path_of(api.unsubscribe_url(user_id=learner.pk, kind=DEMO))

    response = client.post(url)

    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    assert api.preference_for(user_id=learner.pk, kind=DEMO) == "none"
    assert api.preference_for(user_id=learner.pk, kind=DAILY) == "digest"  # other kinds untouched


def test_a_mail_clients_one_click_post_works_without_a_csrf_token(learner):
    client = Client(enforce_csrf_checks=True)
    url = path_of(api.unsubscribe_url(user_id=learner.pk, kind=DEMO))

    response = client.post(url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert api.preference_for(user_id=learner.pk, kind=DEMO) == "none"


def test_other_posts_still_need_a_csrf_token(learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    assert client.post("/notifications/read/").status_code == 403


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature changed
        lambda token: token.replace(token.split(":")[0], "eyJ1IjoyLCJrIjoiZGVtby5ldmVudCJ9"),  # another user
        lambda token: token.split(":")[0],  # signature cut off
    ],
    ids=["signature", "payload", "cut"],
)
def test_a_tampered_link_is_a_clear_400_and_changes_nothing(client, learner, tamper):
    token = api.unsubscribe_url(user_id=learner.pk, kind=DEMO).rstrip("/").rsplit("/", 1)[1]

    for method in (client.get, client.post):
        response = method(f"/notifications/unsubscribe/{tamper(token)}/")
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
        assert "Nothing was changed." in response.content.decode()
    assert not Preference.objects.exists()


def test_a_link_signed_for_another_purpose_is_refused(client, learner):
    from django.core import signing

    token = signing.Signer(salt="something.else").sign_object({"u": learner.pk, "k": DEMO})
    assert client.post(f"/notifications/unsubscribe/{token}/").status_code == 400
    assert not Preference.objects.exists()


def test_the_digest_link_stops_every_kind_that_was_in_the_digest(client, learner):
    api.set_preference(user_id=learner.pk, kind=DEMO, email=api.EMAIL_DIGEST)
    url = path_of(api.unsubscribe_url(user_id=learner.pk, kind=api.DIGEST))

    assert "Stop the daily digest?" in client.get(url).content.decode()
    client.post(url)

    assert api.preference_for(user_id=learner.pk, kind=DEMO) == "none"
    assert api.preference_for(user_id=learner.pk, kind=DAILY) == "none"


# ---- admin ------------------------------------------------------------------------------------------


def test_admin_lists_failed_emails_and_retries_them(client, db, settings, django_capture_on_commit_callbacks):
    from notifications import services

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    settings.EMAIL_BACKEND = "tests.notifications.backends.DisconnectingBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    notify(UserFactory(), title="A reply that bounced")
    services.outbox_deliver_due()
    row = EmailOutbox.objects.get()
    assert row.status == "failed"

    listing = client.get("/admin/notifications/emailoutbox/?status__exact=failed")
    assert "A reply that bounced" in listing.content.decode()
    assert client.get(f"/admin/notifications/emailoutbox/{row.pk}/change/").status_code == 200  # view only
    with django_capture_on_commit_callbacks():
        response = client.post(
            "/admin/notifications/emailoutbox/",
            {"action": "retry_failed", "_selected_action": [row.pk]},
            follow=True,
        )

    assert "1 e-mail(s) queued again." in response.content.decode()
    row.refresh_from_db()
    assert row.status == "pending"
    for path in ("notification", "digest", "preference"):
        assert client.get(f"/admin/notifications/{path}/").status_code == 200
