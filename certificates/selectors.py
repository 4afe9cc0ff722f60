"""Reads for certificate pages."""

from django.http import Http404

from .models import Certificate


def certificate_get(*, public_id: str) -> Certificate:
    certificate = Certificate.objects.select_related("course", "specialization").filter(public_id=public_id).first()
    if certificate is None:
        raise Http404("No certificate has this id. Check the link for typos.")
    return certificate


def certificates_of(*, user) -> list[Certificate]:
    return list(Certificate.objects.filter(user=user).select_related("course", "specialization"))
