"""What every visitor meets around the pages: the icon, error pages styled like the site (DEBUG off, as in
production), and an admin index that names each app once, spelled right."""

import re

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_every_page_names_its_icon_and_the_browser_default_path_answers(client, settings):
    page = client.get("/").content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.ico")


def test_a_missing_page_is_a_styled_404_without_debug_details(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/at-all/")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'data-error-page="404"' in page and "We could not find that page" in page
    assert 'class="site-header"' in page and "Browse the courses" in page
    assert "Traceback" not in page and "URLconf" not in page


def test_a_server_error_page_is_styled_and_needs_no_request_context(settings):
    settings.DEBUG = False
    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert 'data-error-page="500"' in page and "Something went wrong on our side" in page
    assert "site.css" in page


def test_the_admin_index_lists_each_app_once_and_spells_models_right(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="root@example.com", password="x")
    client.force_login(admin)
    page = client.get("/admin/").content.decode()
    apps = re.findall(r'<caption>\s*<a href="/admin/[^"]+/" class="section"[^>]*>([^<]+)</a>', page)
    assert apps and len(apps) == len(set(apps)), apps
    assert "progresss" not in page.lower()
    assert "Item progress" in page and "Users and roles" in page
    # E-mail addresses are edited on the user (an inline), not as a second "Accounts" app.
    assert "Email addresses" not in page
