"""The Site allauth names in e-mails follows the settings; account forms put each error under its field."""

import importlib
import re

import pytest
from django.conf import settings
from django.contrib.sites.models import Site
from django.core import mail
from django.core.management.sql import emit_post_migrate_signal
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_site_row_has_the_configured_domain_and_name_not_example_com():
    site = Site.objects.get(pk=settings.SITE_ID)
    assert (site.domain, site.name) == (settings.SITE_DOMAIN, settings.SITE_NAME)
    assert site.domain != "example.com"


def test_default_site_settings_are_the_local_dev_server():
    assert settings.SITE_NAME == "Deep Learning Specialization"
    assert settings.SITE_DOMAIN == "127.0.0.1:8000"
    assert (
        "example.com" not in settings.DEFAULT_FROM_EMAIL
        and "Deep Learning Specialization" in settings.DEFAULT_FROM_EMAIL
    )


def test_changing_the_env_setting_takes_effect_on_the_next_migrate(settings):
    settings.SITE_DOMAIN, settings.SITE_NAME = "courses.example.org", "DL Courses"
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    site = Site.objects.get_current()
    assert (site.domain, site.name) == ("courses.example.org", "DL Courses")


def test_data_migration_replaces_example_com():
    from django.apps import apps

    Site.objects.filter(pk=settings.SITE_ID).update(domain="example.com", name="example.com")
    migration = importlib.import_module("accounts.migrations.0002_site_from_settings")
    from django.db import connection

    class Editor:  # the migration reads only the connection alias
        pass

    editor = Editor()
    editor.connection = connection
    migration.forwards(apps, editor)
    assert Site.objects.get(pk=settings.SITE_ID).domain == settings.SITE_DOMAIN


def test_the_verification_email_names_the_site_not_example_com(client):
    Site.objects.clear_cache()
    client.post(
        reverse("account_signup"),
        {
            "name": "Ada Lovelace",
            "email": "ada@learners.test",
            "password1": "a-long-secret-phrase",
            "password2": "a-long-secret-phrase",
        },
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    body = message.body
    assert "example.com" not in body and "example.com" not in message.from_email
    assert body.startswith("Hello from Deep Learning Specialization!")
    assert "sign in to Deep Learning Specialization at 127.0.0.1:8000" in body
    assert re.search(r"http://testserver/accounts/confirm-email/\S+/", body)
    assert message.from_email == settings.DEFAULT_FROM_EMAIL


def _signup_page(client, **data) -> str:
    form = {"name": "Ada Lovelace", "email": "ada@learners.test", "password1": "12345", "password2": "12345"} | data
    response = client.post(reverse("account_signup"), form)
    assert response.status_code == 200
    return response.content.decode()


def test_password_errors_are_under_the_password_field_not_the_email_field(client):
    html = _signup_page(client)
    email_input = html.index('name="email"')
    password_label = html.index('for="id_password1"')
    password_input = html.index('name="password1"')
    errors = html.index('id="id_password1-errors"')
    assert email_input < password_label < password_input < errors
    between_email_and_password = html[email_input:password_label]
    assert "too short" not in between_email_and_password and "too common" not in between_email_and_password
    error_list = html[errors : html.index("</ul>", errors)]
    assert "too short" in error_list and "entirely numeric" in error_list
    input_tag = re.search(r"<input[^>]*name=\"password1\"[^>]*>", html).group(0)
    assert 'aria-describedby="id_password1-errors' in input_tag and 'aria-invalid="true"' in input_tag


def test_mismatched_passwords_error_is_under_the_second_password(client):
    html = _signup_page(client, password1="a-long-secret-phrase", password2="another-long-phrase")
    assert html.index('name="password2"') < html.index('id="id_password2-errors"')


def test_non_field_errors_are_at_the_top_of_the_form(client):
    from tests.factories import UserFactory

    UserFactory(email="taken@learners.test")
    response = client.post(reverse("account_login"), {"login": "taken@learners.test", "password": "wrong-password"})
    html = response.content.decode()
    assert "data-form-errors" in html
    assert html.index("data-form-errors") < html.index('name="login"')


def test_a_missing_site_row_is_created_and_new_sites_still_get_fresh_ids(settings):
    from accounts.sites import site_sync

    Site.objects.all().delete()
    site_sync(site_model=Site)
    assert Site.objects.get(pk=settings.SITE_ID).domain == settings.SITE_DOMAIN
    assert Site.objects.create(domain="other.test", name="Other").pk != settings.SITE_ID
