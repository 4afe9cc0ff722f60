"""The certificates app's public door: other apps import only this module."""

from __future__ import annotations

import dataclasses
import datetime

from .models import Certificate
from .selectors import verification_url


@dataclasses.dataclass(frozen=True)
class CertificateFacts:
    public_id: str
    kind: str  # course | specialization
    course_id: int | None
    specialization_id: int
    learner_name: str
    title: str
    completed_at: datetime.datetime
    issued_at: datetime.datetime
    valid: bool  # False once revoked
    url: str  # the public verification page
    revoked_at: datetime.datetime | None = None
    revoked_reason: str = ""  # shown on the public page once revoked


def _facts(certificate: Certificate) -> CertificateFacts:
    return CertificateFacts(
        public_id=certificate.public_id,
        kind=certificate.kind,
        course_id=certificate.course_id,
        specialization_id=certificate.specialization_id,
        learner_name=certificate.learner_name,
        title=certificate.title,
        completed_at=certificate.completed_at,
        issued_at=certificate.issued_at,
        valid=certificate.is_valid,
        url=verification_url(certificate),
        revoked_at=certificate.revoked_at,
        revoked_reason=certificate.revoked_reason if certificate.revoked_at else "",
    )


def certificates_of(*, user_id: int) -> list[CertificateFacts]:
    return [_facts(c) for c in Certificate.objects.filter(user_id=user_id).order_by("-issued_at")]


def certificate_verify(*, public_id: str) -> CertificateFacts | None:
    """What the public verification page says about a certificate id, or None when none has it."""
    certificate = Certificate.objects.filter(public_id=public_id).first()
    return _facts(certificate) if certificate else None


__all__ = ["CertificateFacts", "certificate_verify", "certificates_of"]
