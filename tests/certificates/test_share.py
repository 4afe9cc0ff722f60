"""Link previews and the backfill command."""

import io

import pytest
from django.core.management import call_command
from PIL import Image

from certificates.models import Certificate
from courses import services as course_services
from tests.factories import CertificateFactory, CourseFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_share_image_is_a_1200_by_630_png_linked_from_open_graph(client):
    certificate = CertificateFactory(learner_name="Grace Hopper")
    page = client.get(certificate.get_absolute_url()).content.decode()
    assert (
        f'<meta property="og:image" content="http://127.0.0.1:8000/certificates/{certificate.public_id}/share.png">'
        in page
    )
    response = client.get(f"/certificates/{certificate.public_id}/share.png")
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (1200, 630)


def test_issue_certificates_backfills_missing_ones_once(capsys):
    learner = SubscriptionFactory().user
    course = CourseFactory()
    course_services.course_completion_record(user=learner, course=course)  # no worker ran the task
    call_command("issue_certificates")
    call_command("issue_certificates")
    out = capsys.readouterr().out
    assert "2 certificate(s) issued." in out and "0 certificate(s) issued." in out  # course + specialization
    assert Certificate.objects.filter(user=learner).count() == 2
