"""Public verification page and PDF (no log-in), the learner's list, and staff revocation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from access import api as access
from accounts import api as accounts

from . import selectors, services


def verify(request, public_id):
    certificate = selectors.certificate_get(public_id=public_id)
    context = {
        "certificate": certificate,
        "url": selectors.verification_url(certificate),
        "share": selectors.share_links(certificate=certificate),
        "is_owner": request.user.is_authenticated and request.user.pk == certificate.user_id,
        "can_revoke": bool(access.can_revoke_certificate(request.user)),
        "name_changes": list(certificate.name_changes.all()),
        "current_name": accounts.certificate_name(request.user) if request.user.is_authenticated else "",
    }
    return render(request, "certificates/verify.html", context)


def share_image(request, public_id):
    certificate = selectors.certificate_get(public_id=public_id)
    response = HttpResponse(services.certificate_share_image(certificate=certificate), content_type="image/png")
    response["Cache-Control"] = "public, max-age=3600"
    return response


def pdf(request, public_id):
    certificate = selectors.certificate_get(public_id=public_id)
    response = HttpResponse(services.certificate_pdf(certificate=certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.public_id}.pdf"'
    return response


@login_required
def mine(request):
    certificates = selectors.certificates_of(user=request.user)
    status = selectors.name_status(
        user=request.user, certificates=certificates, current_name=accounts.certificate_name(request.user)
    )
    return render(request, "certificates/mine.html", {"certificates": certificates, "name_status": status})


@login_required
@require_POST
def reissue(request, public_id):
    """The owner re-issues a certificate with the name now in their profile (same verification id)."""
    certificate = selectors.certificate_get(public_id=public_id)
    if certificate.user_id != request.user.pk:
        raise PermissionDenied("Only the certificate's owner can re-issue it.")
    try:
        services.certificate_reissue_with_current_name(certificate=certificate, user=request.user)
    except services.CertificateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Re-issued with your current name. Its verification link has not changed.")
    return redirect(certificate)


@login_required
@require_POST
def revoke(request, public_id):
    certificate = selectors.certificate_get(public_id=public_id)
    decision = access.can_revoke_certificate(request.user)
    if not decision:
        raise PermissionDenied(decision.message)
    try:
        services.certificate_revoke(certificate=certificate, staff=request.user, reason=request.POST.get("reason", ""))
    except services.CertificateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The certificate is revoked; its page now says so.")
    return redirect(certificate)
