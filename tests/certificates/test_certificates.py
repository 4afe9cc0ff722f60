"""Certificates: issued by a task after completion, public verification, PDF with QR code, revocation."""

import base64
import datetime
import re
import zlib

import pytest
from django.urls import reverse

from access import api as access
from certificates import receivers, services, tasks
from certificates.models import Certificate
from courses import services as course_services
from tests.factories import CertificateFactory, CourseFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def test_completion_queues_the_certificate_task_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    learner = SubscriptionFactory().user
    course = CourseFactory()
    queued = []
    monkeypatch.setattr(tasks.issue_course_certificate, "delay", lambda *args: queued.append(args))
    monkeypatch.setattr(tasks.issue_specialization_certificate, "delay", lambda *args: queued.append(("spec", *args)))

    with django_capture_on_commit_callbacks(execute=True):
        course_services.course_completion_record(user=learner, course=course, now=T0)

    assert (learner.pk, course.pk) in queued
    assert ("spec", learner.pk, course.specialization.pk) in queued  # its only course


def test_the_task_issues_once_with_the_name_and_date_of_completion():
    learner = SubscriptionFactory(user__name="Ada Lovelace").user
    course = CourseFactory(title="Sequence Models")
    course_services.course_completion_record(user=learner, course=course, now=T0)

    public_id = tasks.issue_course_certificate(learner.pk, course.pk)
    again = tasks.issue_course_certificate(learner.pk, course.pk)

    certificate = Certificate.objects.get()
    assert public_id == again == certificate.public_id
    assert (certificate.learner_name, certificate.title, certificate.completed_at) == (
        "Ada Lovelace",
        "Sequence Models",
        T0,
    )
    assert len(certificate.public_id) >= 16 and re.fullmatch(r"[A-Za-z0-9_-]+", certificate.public_id)


def test_no_certificate_without_a_completion():
    learner = SubscriptionFactory().user
    assert services.certificate_issue_for_course(user=learner, course_id=CourseFactory().pk) is None


def test_the_access_policy_decides_who_earns(monkeypatch):
    learner = UserFactory()
    course = CourseFactory()
    course_services.course_completion_record(user=learner, course=course, now=T0)
    monkeypatch.setattr(access, "can_earn_certificate", lambda user, course_id: False)
    assert services.certificate_issue_for_course(user=learner, course_id=course.pk) is None


def test_specialization_certificate_needs_every_course():
    learner = SubscriptionFactory().user
    first, second = CourseFactory(), CourseFactory()
    course_services.course_completion_record(user=learner, course=first, now=T0)
    spec = first.specialization
    assert services.certificate_issue_for_specialization(user=learner, specialization_id=spec.pk) is None
    course_services.course_completion_record(user=learner, course=second, now=T0 + datetime.timedelta(days=9))
    certificate = services.certificate_issue_for_specialization(user=learner, specialization_id=spec.pk)
    assert certificate.kind == "specialization" and certificate.completed_at == T0 + datetime.timedelta(days=9)


def test_verification_page_is_public_with_open_graph_and_share_links(client):
    certificate = CertificateFactory(learner_name="Grace Hopper", title="Convolutional Neural Networks")
    page = client.get(f"/certificates/{certificate.public_id}/").content.decode()
    assert "✓ Valid certificate" in page and "Grace Hopper" in page and "2 March 2026" in page
    assert '<meta property="og:title" content="Grace Hopper · Convolutional Neural Networks">' in page
    assert f'<meta property="og:url" content="http://127.0.0.1:8000/certificates/{certificate.public_id}/">' in page
    assert "linkedin.com/sharing/share-offsite/?url=http%3A%2F%2F127.0.0.1%3A8000%2Fcertificates%2F" in page
    assert "twitter.com/intent/tweet" in page and "Revoke" not in page


def test_unknown_id_is_404(client):
    assert client.get("/certificates/not-a-real-id/").status_code == 404


@pytest.mark.slow
def test_pdf_is_a_pdf_with_the_verification_link_and_a_qr_code(client):
    certificate = CertificateFactory()
    response = client.get(reverse("certificates:pdf", args=[certificate.public_id]))
    body = response.content
    assert response["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
    url = f"http://127.0.0.1:8000/certificates/{certificate.public_id}/".encode()
    streams = [zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", body, re.DOTALL) if _z(m)]
    assert any(b"/URI (" + url + b")" in s for s in streams)  # the verification link, clickable


@pytest.mark.slow
def test_the_pdf_is_rendered_with_the_qr_code_of_the_verification_url(monkeypatch):
    certificate = CertificateFactory()
    rendered = {}
    real = services.render_to_string

    def capture(template, context):
        rendered.update(context)
        return real(template, context)

    monkeypatch.setattr(services, "render_to_string", capture)
    services.certificate_pdf(certificate=certificate)
    assert rendered["url"] == f"http://127.0.0.1:8000/certificates/{certificate.public_id}/"
    assert rendered["qr"] == services.qr_code_svg(rendered["url"])
    svg = base64.b64decode(rendered["qr"].removeprefix("data:image/svg+xml;base64,"))
    assert svg.startswith(b"<?xml") and b"<path" in svg


def _z(data: bytes) -> bool:
    try:
        zlib.decompress(data)
    except zlib.error:
        return False
    return True


def test_staff_revoke_with_a_reason_and_the_page_says_revoked(client):
    certificate = CertificateFactory()
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert "Staff: revoke this certificate" in client.get(certificate.get_absolute_url()).content.decode()

    empty = client.post(reverse("certificates:revoke", args=[certificate.public_id]), {"reason": " "}, follow=True)
    assert "Give the reason" in empty.content.decode()
    client.post(reverse("certificates:revoke", args=[certificate.public_id]), {"reason": "Plagiarised notebook."})

    client.logout()
    page = client.get(certificate.get_absolute_url()).content.decode()
    assert "✗ Revoked" in page and "Plagiarised notebook." in page
    certificate.refresh_from_db()
    assert certificate.revoked_by == staff


def test_learners_cannot_revoke(client):
    certificate = CertificateFactory()
    client.force_login(certificate.user)
    response = client.post(reverse("certificates:revoke", args=[certificate.public_id]), {"reason": "mine"})
    assert response.status_code == 403
    certificate.refresh_from_db()
    assert certificate.is_valid
    with pytest.raises(access.AccessDenied, match="Only staff"):
        services.certificate_revoke(certificate=certificate, staff=certificate.user, reason="x")


def test_certificate_survives_the_end_of_the_subscription(client):
    subscription = SubscriptionFactory()
    learner = subscription.user
    course = CourseFactory()
    course_services.course_completion_record(user=learner, course=course, now=T0)
    certificate = services.certificate_issue_for_course(user=learner, course_id=course.pk)
    subscription.status = "canceled"
    subscription.ended_at = T0 + datetime.timedelta(days=40)
    subscription.save()

    client.force_login(learner)
    assert "✓ Valid certificate" in client.get(certificate.get_absolute_url()).content.decode()
    assert client.get(reverse("certificates:pdf", args=[certificate.public_id])).status_code == 200
    mine = client.get(reverse("certificates:mine")).content.decode()
    assert course.title in mine


def test_receivers_are_connected():
    from courses import signals

    assert receivers.on_course_completed in [r[1]() for r in signals.course_completed.receivers]
