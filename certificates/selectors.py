"""Reads for certificate pages."""

import dataclasses
from urllib.parse import quote

from django.conf import settings
from django.http import Http404

from .models import Certificate


def certificate_get(*, public_id: str) -> Certificate:
    certificate = Certificate.objects.select_related("course", "specialization").filter(public_id=public_id).first()
    if certificate is None:
        raise Http404("No certificate has this id. Check the link for typos.")
    return certificate


def certificates_of(*, user) -> list[Certificate]:
    return list(Certificate.objects.filter(user=user).select_related("course", "specialization"))


@dataclasses.dataclass(frozen=True)
class NameStatus:
    """Whether the learner's certificates carry the name in their profile, for the prompt to fix them."""

    has_name: bool  # a full name is set in the profile (else certificates print the e-mail's local part)
    current: str  # what a certificate issued now would print
    outdated: list[Certificate]  # valid certificates printed with another name

    @property
    def needs_attention(self) -> bool:
        return not self.has_name or bool(self.outdated)


def name_status(*, user, certificates: list[Certificate], current_name: str) -> NameStatus:
    outdated = [c for c in certificates if c.is_valid and c.learner_name != current_name]
    return NameStatus(has_name=bool(getattr(user, "name", "").strip()), current=current_name, outdated=outdated)


def verification_url(certificate: Certificate) -> str:
    return settings.SITE_URL.rstrip("/") + certificate.get_absolute_url()


@dataclasses.dataclass(frozen=True)
class ShareLinks:
    """Where a learner shares a certificate; each link opens the network's own share page."""

    linkedin: str
    x: str
    facebook: str
    email: str


def share_links(*, certificate: Certificate) -> ShareLinks:
    url = quote(verification_url(certificate), safe="")
    text = quote(f"I earned my certificate for {certificate.title}")
    return ShareLinks(
        linkedin=f"https://www.linkedin.com/sharing/share-offsite/?url={url}",
        x=f"https://twitter.com/intent/tweet?text={text}&url={url}",
        facebook=f"https://www.facebook.com/sharer/sharer.php?u={url}",
        email=f"mailto:?subject={text}&body={url}",
    )
