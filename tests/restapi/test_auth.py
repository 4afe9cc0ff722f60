"""Credentials: personal tokens (hashed, scoped, expiring, revocable), OAuth2 (PKCE, client credentials),
the browser session with CSRF; and the token page under the profile."""

import base64
import datetime
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import Application

from restapi import services
from restapi.models import PersonalAccessToken
from tests.factories import CertificateFactory, UserFactory
from tests.restapi.conftest import client_for, error_of, token_for

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


# ---- personal access tokens ------------------------------------------------------------------------


def test_a_token_is_stored_only_as_its_hash(learner):
    token, secret = services.token_create(user=learner, name="export", scope="read", expires_in_days=30)
    row = PersonalAccessToken.objects.filter(pk=token.pk).values().get()
    assert secret not in str(row.values())
    assert row["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] == secret[:12] and secret.startswith("dlpat_")


def test_several_tokens_each_act_for_their_user(learner):
    first, second = token_for(learner, "read"), token_for(learner, "write")
    for secret in (first, second):
        response = Client().get("/api/v1/me/", **bearer(secret))
        assert response.json()["email"] == learner.email
        assert response.json()["credential"] == "personal_token"
    assert Client().get("/api/v1/me/", **bearer(first)).json()["scope"] == ["read"]
    assert Client().get("/api/v1/me/", **bearer(second)).json()["scope"] == ["read", "write"]


def test_an_expired_token_is_a_401_that_says_so(learner):
    token, secret = services.token_create(user=learner, name="old", scope="read", expires_in_days=7)
    PersonalAccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = Client().get("/api/v1/me/", **bearer(secret))
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "authentication_failed"
    assert "expired" in error["message"]
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_token_stops_working_at_once(learner):
    token, secret = services.token_create(user=learner, name="ci", scope="read", expires_in_days=30)
    assert Client().get("/api/v1/me/", **bearer(secret)).status_code == 200
    services.token_revoke(user=learner, token_id=token.pk)
    response = Client().get("/api/v1/me/", **bearer(secret))
    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


@pytest.mark.parametrize("header", ["Bearer dlpat_nonsense", "Bearer not-a-token-at-all", "Bearer a b"])
def test_a_bearer_header_naming_no_credential_is_a_401_even_on_public_endpoints(course, header):
    response = Client().get("/api/v1/courses/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_no_credentials_on_a_learners_endpoint_is_a_401(db):
    response = Client().get("/api/v1/me/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_read_token_reads_but_does_not_write(learner):
    client = client_for(learner, scope="read")
    assert client.get("/api/v1/events/").status_code == 200
    response = client.post("/api/v1/events/read/", {}, format="json")
    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["reason"]) == ("insufficient_scope", "insufficient_scope")


def test_last_use_is_recorded_at_most_once_a_minute(learner):
    token, secret = services.token_create(user=learner, name="x", scope="read", expires_in_days=7)
    Client().get("/api/v1/me/", **bearer(secret))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    Client().get("/api/v1/me/", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == first


@pytest.mark.parametrize(
    ("name", "scope", "days", "message"),
    [
        ("", "read", 30, "Give the token a name"),
        ("x", "admin", 30, "Choose a scope"),
        ("x", "read", 3650, "Choose an expiry"),
    ],
)
def test_a_bad_token_request_is_refused_with_a_sentence(learner, name, scope, days, message):
    with pytest.raises(services.TokenRefused, match=message):
        services.token_create(user=learner, name=name, scope=scope, expires_in_days=days)


def test_a_user_holds_at_most_twenty_active_tokens(learner):
    for n in range(services.MAX_ACTIVE_TOKENS):
        services.token_create(user=learner, name=f"t{n}", scope="read", expires_in_days=7)
    with pytest.raises(services.TokenRefused, match="Revoke one"):
        services.token_create(user=learner, name="one more", scope="read", expires_in_days=7)


# ---- the token page -----------------------------------------------------------------------------------


def test_the_token_page_shows_a_new_token_once_lists_it_and_revokes_it(learner):
    browser = Client()
    browser.force_login(learner)
    made = browser.post("/accounts/profile/tokens/", {"name": "grades", "scope": "write", "expires_in_days": "90"})
    assert made.status_code == 200
    assert made["Cache-Control"].startswith("max-age=0")
    token = PersonalAccessToken.objects.get(user=learner)
    secret = made.context["secret"]
    assert secret.encode() in made.content
    assert Client().get("/api/v1/me/", **bearer(secret)).status_code == 200
    listed = browser.get("/accounts/profile/tokens/")
    assert secret.encode() not in listed.content
    assert token.prefix.encode() in listed.content and b"grades" in listed.content
    browser.post(f"/accounts/profile/tokens/{token.pk}/revoke/")
    assert Client().get("/api/v1/me/", **bearer(secret)).status_code == 401
    assert b"Revoked" in browser.get("/accounts/profile/tokens/").content


def test_nobody_revokes_someone_elses_token(learner):
    token, secret = services.token_create(user=learner, name="mine", scope="read", expires_in_days=7)
    browser = Client()
    browser.force_login(UserFactory())
    browser.post(f"/accounts/profile/tokens/{token.pk}/revoke/")
    assert Client().get("/api/v1/me/", **bearer(secret)).status_code == 200


def test_the_token_page_needs_a_log_in(db):
    response = Client().get("/accounts/profile/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_profile_links_to_the_token_page(learner):
    browser = Client()
    browser.force_login(learner)
    assert b'href="/accounts/profile/tokens/"' in browser.get("/accounts/profile/").content


# ---- the browser session ------------------------------------------------------------------------------


def test_the_session_works_and_writes_need_the_csrf_token(learner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(learner)
    me = browser.get("/api/v1/me/")
    assert me.json()["credential"] == "session"
    refused = browser.post("/api/v1/events/read/", {}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in error_of(refused)["message"]
    browser.get("/accounts/profile/tokens/")  # any page sets the CSRF cookie
    allowed = browser.post(
        "/api/v1/events/read/", {}, content_type="application/json", HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value
    )
    assert allowed.status_code == 200


# ---- OAuth2 -----------------------------------------------------------------------------------------------

REDIRECT = "https://gradebook.example/callback"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _authorize(browser, app, challenge: str | None, scope="read write"):
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "s1",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = browser.get("/o/authorize/", params)
    return page, params


def test_an_integration_acts_for_a_learner_with_authorization_code_and_pkce(learner):
    app = Application.objects.create(
        name="Gradebook",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
    )
    browser = Client()
    browser.force_login(learner)
    verifier, challenge = _pkce()
    page, _ = _authorize(browser, app, challenge)
    assert page.status_code == 200
    assert b"Let Gradebook use your account?" in page.content
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    answer = browser.post("/o/authorize/", {**form, "allow": "Authorize"})
    assert answer.status_code == 302 and answer["Location"].startswith(REDIRECT)
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["state"] == ["s1"]
    token = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.content
    access = token.json()["access_token"]
    me = Client().get("/api/v1/me/", **bearer(access))
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["credential"], me.json()["scope"]) == (
        learner.email,
        "oauth2",
        ["read", "write"],
    )


def test_authorization_without_pkce_is_refused(learner):
    app = Application.objects.create(
        name="Old client",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
    )
    browser = Client()
    browser.force_login(learner)
    page, _ = _authorize(browser, app, challenge=None)
    assert page.status_code in (302, 400)
    if page.status_code == 302:
        assert "error=invalid_request" in page["Location"]


def test_a_read_scoped_oauth_token_cannot_write(learner):
    from oauth2_provider.models import AccessToken

    app = Application.objects.create(
        name="Reader",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
    )
    AccessToken.objects.create(
        user=learner, application=app, token="oauth-read-1", scope="read",
        expires=timezone.now() + datetime.timedelta(hours=1),
    )  # fmt: skip
    assert Client().get("/api/v1/me/", **bearer("oauth-read-1")).status_code == 200
    response = Client().post("/api/v1/events/read/", {}, content_type="application/json", **bearer("oauth-read-1"))
    assert error_of(response)["code"] == "insufficient_scope"


def test_client_credentials_see_what_the_public_sees_and_act_for_no_learner(course):
    secret = "client-secret-for-tests"
    app = Application.objects.create(
        name="Verifier",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    token = Client().post(
        "/o/token/", {"grant_type": "client_credentials", "scope": "read"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert token.status_code == 200, token.content
    access = token.json()["access_token"]
    assert Client().get("/api/v1/courses/", **bearer(access)).status_code == 200
    certificate = CertificateFactory(course=course)
    verified = Client().get(f"/api/v1/certificates/{certificate.public_id}/", **bearer(access))
    assert verified.json()["valid"] is True
    me = Client().get("/api/v1/me/", **bearer(access))
    assert me.status_code == 403
    assert "acts for a learner" in error_of(me)["message"]


def test_an_expired_oauth_token_is_a_401(learner):
    from oauth2_provider.models import AccessToken

    app = Application.objects.create(
        name="Old",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
    )
    AccessToken.objects.create(
        user=learner, application=app, token="oauth-old", scope="read",
        expires=timezone.now() - datetime.timedelta(seconds=1),
    )  # fmt: skip
    response = Client().get("/api/v1/me/", **bearer("oauth-old"))
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
