"""Sign-up with e-mail verification, rate-limited log-in, profile and roles."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import user_create_verified
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_requires_email_verification_then_logs_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "name": "New  Person",
            "email": "New.Person@Example.com",
            "password1": "a-long-secret-phrase",
            "password2": "a-long-secret-phrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert user.name == "New Person"  # asked at sign-up, spaces normalised: it goes on certificates
    assert not user.emailaddress_set.get().verified
    # Not logged in yet: the profile page sends them to log in.
    assert client.get(reverse("accounts:profile")).status_code == 302

    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    confirm_path = link.split("testserver", 1)[-1]
    assert client.get(confirm_path).status_code == 200  # the page asks to confirm with a POST
    client.post(confirm_path)
    assert user.emailaddress_set.get().verified
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_unverified_user_cannot_log_in(client):
    user = User.objects.create_user(email="pending@example.com", password="a-long-secret-phrase")
    user.emailaddress_set.create(email=user.email, verified=False, primary=True)
    client.post(reverse("account_login"), {"login": "pending@example.com", "password": "a-long-secret-phrase"})
    assert "_auth_user_id" not in client.session


def test_failed_log_ins_are_rate_limited(client):
    user = UserFactory()
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
        assert response.status_code == 200
    blocked = client.post(reverse("account_login"), {"login": user.email, "password": "correct-horse-battery"})
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("proxies", "shared"), [(0, True), (1, False)])
def test_behind_a_proxy_failed_log_ins_count_per_client_not_per_proxy(client, settings, proxies, shared):
    """Behind nginx every request comes from nginx's address: unless Django is told the proxy is there,
    one client's failed log-ins lock out everyone (and if it is told, each client has its own count)."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/5m/ip"}
    user = UserFactory()
    nginx = {"REMOTE_ADDR": "172.18.0.5"}
    for _ in range(3):
        client.post(
            reverse("account_login"),
            {"login": user.email, "password": "wrong"},
            HTTP_X_FORWARDED_FOR="203.0.113.7",
            **nginx,
        )
    other = client.post(
        reverse("account_login"),
        {"login": user.email, "password": "correct-horse-battery"},
        HTTP_X_FORWARDED_FOR="198.51.100.2",
        **nginx,
    )
    assert ("Too many failed login attempts" in other.content.decode()) is shared
    assert ("_auth_user_id" in client.session) is not shared


def test_correct_log_in_works(client):
    user = UserFactory()
    client.post(reverse("account_login"), {"login": user.email, "password": "correct-horse-battery"})
    assert client.session["_auth_user_id"] == str(user.pk)


def test_csrf_is_enforced_on_log_in():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("account_login"), {"login": "a@example.com", "password": "x"})
    assert response.status_code == 403


def test_profile_update_and_roles(client):
    user = UserFactory(is_mentor=True)
    client.force_login(user)
    client.post(reverse("accounts:profile"), {"name": "  Grace Hopper ", "bio": "Compilers."})
    user.refresh_from_db()
    assert user.name == "Grace Hopper"
    assert user.roles == [Role.LEARNER, Role.MENTOR]
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Mentor" in page and "Grace Hopper" in page


def test_demo_users_command_is_idempotent():
    user_create_verified(email="x@example.com", password="pw-one-two-three", name="X")
    user_create_verified(email="x@example.com", password="pw-one-two-three", name="X")
    assert User.objects.filter(email="x@example.com").count() == 1


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    user = UserFactory()
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    client.post(action, {"password1": "a-brand-new-phrase-7", "password2": "a-brand-new-phrase-7"})
    user.refresh_from_db()
    assert user.check_password("a-brand-new-phrase-7")
