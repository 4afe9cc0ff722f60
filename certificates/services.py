"""Issuing, revoking and rendering certificates. Issuing is idempotent; revoking needs a reason."""

from __future__ import annotations

import base64
import datetime
import io

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from access import api as access
from accounts import api as accounts
from courses import api as courses

from .models import Certificate, CertificateKind, CertificateNameChange
from .selectors import verification_url


class CertificateError(Exception):
    """A staff action that cannot be done as asked (the message says why)."""


def certificate_issue_for_course(*, user, course_id: int, now: datetime.datetime | None = None) -> Certificate | None:
    """Issue the course certificate for a recorded completion (once). None when the course is not
    completed or the access policy says this learner cannot earn certificates now."""
    completion = courses.completion_of(user_id=user.pk, course_id=course_id)
    if completion is None:
        return None
    existing = Certificate.objects.filter(user=user, course_id=course_id, kind=CertificateKind.COURSE).first()
    if existing is not None:
        return existing
    if not access.can_earn_certificate(user, course_id=course_id):
        return None
    course = courses.course_facts(course_id=course_id)
    return _create(
        user=user,
        kind=CertificateKind.COURSE,
        course_id=course_id,
        specialization_id=course.specialization_id,
        title=course.title,
        completed_at=completion.completed_at,
        now=now,
    )


def certificate_issue_for_specialization(
    *, user, specialization_id: int, now: datetime.datetime | None = None
) -> Certificate | None:
    """Issue the specialization certificate once every course of it is completed (once)."""
    course_ids = courses.specialization_course_ids(specialization_id=specialization_id)
    completions = courses.completions_of(user_id=user.pk, specialization_id=specialization_id)
    if not course_ids or {c.course_id for c in completions} != set(course_ids):
        return None
    existing = Certificate.objects.filter(
        user=user, specialization_id=specialization_id, kind=CertificateKind.SPECIALIZATION
    ).first()
    if existing is not None:
        return existing
    if not all(access.can_earn_certificate(user, course_id=course_id) for course_id in course_ids):
        return None
    return _create(
        user=user,
        kind=CertificateKind.SPECIALIZATION,
        course_id=None,
        specialization_id=specialization_id,
        title=courses.specialization_facts(specialization_id=specialization_id).title,
        completed_at=max(c.completed_at for c in completions),
        now=now,
    )


def _create(*, user, kind, course_id, specialization_id, title, completed_at, now) -> Certificate:
    try:
        with transaction.atomic():
            return Certificate.objects.create(
                user=user,
                kind=kind,
                course_id=course_id,
                specialization_id=specialization_id,
                learner_name=accounts.certificate_name(user),
                title=title,
                completed_at=completed_at,
                issued_at=now or timezone.now(),
            )
    except IntegrityError:  # issued concurrently by another worker: return that one
        lookup = (
            {"course_id": course_id} if kind == CertificateKind.COURSE else {"specialization_id": specialization_id}
        )
        return Certificate.objects.get(user=user, kind=kind, **lookup)


def certificate_reissue_with_current_name(
    *, certificate: Certificate, user, now: datetime.datetime | None = None
) -> Certificate:
    """Re-issue a certificate with the learner's current name (after they corrected it in their profile).
    It keeps its verification id, so links and printed QR codes still work; the change is recorded and
    the verification page says the certificate was re-issued with an updated name."""
    if certificate.user_id != user.pk:
        raise CertificateError("Only the certificate's owner can re-issue it with their name.")
    if certificate.revoked_at is not None:
        raise CertificateError("A revoked certificate cannot be re-issued.")
    new_name = accounts.certificate_name(user)
    if not getattr(user, "name", "").strip():
        raise CertificateError("Add your full name in your profile first.")
    if new_name == certificate.learner_name:
        raise CertificateError("This certificate already shows your current name.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        CertificateNameChange.objects.create(
            certificate=locked, old_name=locked.learner_name, new_name=new_name, changed_at=now, changed_by=user
        )
        locked.learner_name = new_name
        locked.save(update_fields=["learner_name"])
    return locked


def certificate_revoke(
    *, certificate: Certificate, staff, reason: str, now: datetime.datetime | None = None
) -> Certificate:
    """Staff revoke a certificate with a reason; its verification page then says so."""
    access.can_revoke_certificate(staff).require()
    if not reason.strip():
        raise CertificateError("Give the reason for revoking; it is shown on the verification page.")
    if certificate.revoked_at is not None:
        raise CertificateError("This certificate is already revoked.")
    certificate.revoked_at = now or timezone.now()
    certificate.revoked_reason = reason.strip()
    certificate.revoked_by = staff
    certificate.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
    return certificate


def qr_code_svg(data: str) -> str:
    """The QR code of `data` as a data: URI with an SVG image (sharp at any print size)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def certificate_pdf(*, certificate: Certificate) -> bytes:
    """The printable certificate (A4 landscape) with its verification link and QR code."""
    from weasyprint import HTML

    url = verification_url(certificate)
    html = render_to_string("certificates/pdf.html", {"certificate": certificate, "url": url, "qr": qr_code_svg(url)})
    return HTML(string=html, base_url=settings.SITE_URL).write_pdf()


def certificate_share_image(*, certificate: Certificate) -> bytes:
    """A 1200x630 PNG for link previews (og:image): who, what, when, and whether it is valid."""
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    def font(size: int):
        return ImageFont.load_default(size=size)  # Pillow's bundled font: no system fonts needed

    image = Image.new("RGB", (1200, 630), "#0f2a44")
    draw = ImageDraw.Draw(image)
    for y in range(630):  # the site's navy gradient
        shade = int(30 * y / 630)
        draw.line([(0, y), (1200, y)], fill=(15 + shade, 42 + shade, 68 + shade))
    draw.rectangle([0, 0, 14, 630], fill="#f5a524")
    draw.polygon([(92, 68), (104, 80), (92, 92), (80, 80)], fill="#f5a524")  # the brand mark
    draw.text((116, 64), _site_name().upper(), font=font(28), fill="#f5a524")
    kind = "SPECIALIZATION CERTIFICATE" if certificate.kind == CertificateKind.SPECIALIZATION else "COURSE CERTIFICATE"
    draw.text((80, 120), kind, font=font(24), fill="#9ec5ea")
    draw.text((80, 190), certificate.learner_name, font=font(64), fill="#ffffff")
    y = 290
    for line in textwrap.wrap(certificate.title, width=40)[:3]:
        draw.text((80, y), line, font=font(42), fill="#dbe7f3")
        y += 54
    status = "Verified" if certificate.is_valid else "REVOKED"
    colour = "#7fd49b" if certificate.is_valid else "#ff9a8f"
    draw.text(
        (80, 540),
        f"{status} · completed {certificate.completed_at.day} {certificate.completed_at:%B %Y}",
        font=font(28),
        fill=colour,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _site_name() -> str:
    return getattr(settings, "SITE_NAME", "Deep Learning")


def certificates_issue_missing(*, now: datetime.datetime | None = None) -> list[Certificate]:
    """Issue the certificates of completions that have none yet (for example after the worker was
    down when a completion was recorded). Idempotent; returns the certificates it issued."""
    from django.contrib.auth import get_user_model

    issued = []
    have = set(Certificate.objects.filter(kind=CertificateKind.COURSE).values_list("user_id", "course_id"))
    completions = courses.completions_all()
    users = get_user_model().objects.in_bulk({c.user_id for c in completions})
    for completion in completions:
        if (completion.user_id, completion.course_id) in have:
            continue
        certificate = certificate_issue_for_course(
            user=users[completion.user_id], course_id=completion.course_id, now=now
        )
        if certificate is not None:
            issued.append(certificate)
    have_spec = set(
        Certificate.objects.filter(kind=CertificateKind.SPECIALIZATION).values_list("user_id", "specialization_id")
    )
    for user_id, specialization_id in sorted({(c.user_id, c.specialization_id) for c in completions}):
        if (user_id, specialization_id) in have_spec:
            continue
        certificate = certificate_issue_for_specialization(
            user=users[user_id], specialization_id=specialization_id, now=now
        )
        if certificate is not None:
            issued.append(certificate)
    return issued
