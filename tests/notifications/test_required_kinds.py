"""Required kinds (account e-mails: payments, access): always e-mailed at once, not on the preferences page,
no unsubscribe link or header, and no way to turn them off."""

import pytest
from django.core import mail

from notifications import api, services
from notifications.tokens import BadUnsubscribeLink, unsubscribe_token

pytestmark = pytest.mark.django_db

ACCOUNT = "demo.account"


@pytest.fixture(autouse=True)
def account_kind(demo_kinds):
    api.register_kind(ACCOUNT, label="Demo account e-mails", required=True)


def test_required_kind_is_e_mailed_without_an_unsubscribe_link(
    learner, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        api.notify(
            event_key="acct:1", kind=ACCOUNT, recipient_ids=[learner.pk], title="Payment failed", body="Update it."
        )
    [message] = mail.outbox
    assert "List-Unsubscribe" not in message.extra_headers
    assert "unsubscribe" not in message.body.lower() and "always sent" in message.body


def test_required_kind_cannot_be_turned_off_anywhere(client, learner):
    with pytest.raises(api.PreferenceRefused, match="always sent"):
        api.set_preference(user_id=learner.pk, kind=ACCOUNT, email=api.EMAIL_NONE)
    with pytest.raises(BadUnsubscribeLink, match="always sent"):
        services.unsubscribe(token=unsubscribe_token(user_id=learner.pk, kind=ACCOUNT))
    client.force_login(learner)
    assert "Demo account e-mails" not in client.get("/notifications/preferences/").content.decode()
    assert api.preference_for(user_id=learner.pk, kind=ACCOUNT) == api.EMAIL_IMMEDIATE


def test_a_required_kind_must_be_immediate():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="required kind"):
        api.register_kind("demo.required_digest", label="x", default_email=api.EMAIL_DIGEST, required=True)
