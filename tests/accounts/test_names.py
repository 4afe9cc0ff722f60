"""The learner's name: asked at sign-up with a preview of how certificates print it, validated, frozen on
a certificate at issue, and re-issued on request with the same verification id and the change on record."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.forms import clean_full_name
from accounts.models import User
from certificates import services
from certificates.models import CertificateNameChange
from courses import services as course_services
from tests.factories import CourseFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
SIGNUP = {"email": "grace@learners.test", "password1": "a-long-secret-phrase", "password2": "a-long-secret-phrase"}


def test_sign_up_asks_the_full_name_first_and_shows_how_certificates_print_it(client):
    page = client.get(reverse("account_signup")).content.decode()
    assert page.index('name="name"') < page.index('name="email"')
    assert 'autocomplete="name"' in page and "as it will appear on your certificates" in page
    assert "Certificates will read:" in page and "data-name-preview" in page


def test_sign_up_without_a_name_is_refused_under_the_name_field(client):
    response = client.post(reverse("account_signup"), SIGNUP)
    html = response.content.decode()
    assert response.status_code == 200 and not User.objects.exists()
    assert html.index('name="name"') < html.index('id="id_name-errors"') < html.index('name="email"')


@pytest.mark.parametrize(
    ("raw", "clean"), [("  Grace   Brewster  Hopper ", "Grace Brewster Hopper"), ("李 小龍", "李 小龍"), ("Ng", "Ng")]
)
def test_names_are_normalised(raw, clean):
    assert clean_full_name(raw) == clean


@pytest.mark.parametrize("raw", ["", " ", "x", "grace@example.com", "see https://spam.example", "Tab\u0007bell"])
def test_names_that_would_print_badly_are_refused(raw):
    with pytest.raises(ValidationError):
        clean_full_name(raw)


def test_the_certificate_prints_the_name_given_at_sign_up_and_keeps_it_when_the_profile_changes(client):
    learner = SubscriptionFactory(user__name="Grace Hopper", user__email="ui-audit-1@example.com").user
    course = CourseFactory()
    course_services.course_completion_record(user=learner, course=course, now=T0)
    certificate = services.certificate_issue_for_course(user=learner, course_id=course.pk)
    assert certificate.learner_name == "Grace Hopper"  # not "ui-audit-1"

    learner.name = "Grace Brewster Hopper"
    learner.save()
    certificate.refresh_from_db()
    assert certificate.learner_name == "Grace Hopper"  # frozen at issue


def test_reissue_with_the_corrected_name_keeps_the_verification_id_and_records_the_change(client):
    learner = SubscriptionFactory(user__name="Grace Hoper").user
    course = CourseFactory()
    course_services.course_completion_record(user=learner, course=course, now=T0)
    certificate = services.certificate_issue_for_course(user=learner, course_id=course.pk)
    public_id = certificate.public_id
    learner.name = "Grace Hopper"
    learner.save()
    client.force_login(learner)

    page = client.get(certificate.get_absolute_url()).content.decode()
    assert "data-reissue" in page and "Re-issue as “Grace Hopper”" in page
    response = client.post(reverse("certificates:reissue", args=[public_id]))
    assert response.status_code == 302

    certificate.refresh_from_db()
    assert (certificate.public_id, certificate.learner_name) == (public_id, "Grace Hopper")
    change = CertificateNameChange.objects.get(certificate=certificate)
    assert (change.old_name, change.new_name, change.changed_by) == ("Grace Hoper", "Grace Hopper", learner)
    page = client.get(certificate.get_absolute_url()).content.decode()
    assert "re-issued on" in page and "with an updated name" in page and "data-reissue" not in page


def test_only_the_owner_reissues_and_a_revoked_certificate_stays_as_it_is(client):
    learner = SubscriptionFactory(user__name="Grace Hoper").user
    course = CourseFactory()
    course_services.course_completion_record(user=learner, course=course, now=T0)
    certificate = services.certificate_issue_for_course(user=learner, course_id=course.pk)
    learner.name = "Grace Hopper"
    learner.save()
    client.force_login(UserFactory(name="Mallory"))
    assert client.post(reverse("certificates:reissue", args=[certificate.public_id])).status_code == 403
    services.certificate_revoke(certificate=certificate, staff=UserFactory(is_staff=True), reason="Plagiarism")
    with pytest.raises(services.CertificateError, match="revoked"):
        services.certificate_reissue_with_current_name(certificate=certificate, user=learner)
    certificate.refresh_from_db()
    assert certificate.learner_name == "Grace Hoper"


def test_my_certificates_prompts_for_a_name_when_the_profile_has_none(client):
    learner = SubscriptionFactory(user__name="", user__email="ui-audit-1@example.com").user
    course = CourseFactory()
    course_services.course_completion_record(user=learner, course=course, now=T0)
    services.certificate_issue_for_course(user=learner, course_id=course.pk)
    client.force_login(learner)
    page = client.get(reverse("certificates:mine")).content.decode()
    assert "data-name-prompt" in page and "Add your full name" in page and "“ui-audit-1”" in page
