"""Public verification page and PDF (no log-in), the learner's list, and staff revocation."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services


def verify(request, public_id):
    certificate = selectors.certificate_get(public_id=public_id)
    url = services.verification_url(certificate)
    text = f"I earned my certificate for {certificate.title}"
    share = {
        "linkedin": f"https://www.linkedin.com/sharing/share-offsite/?url={quote(url, safe='')}",
        "x": f"https://twitter.com/intent/tweet?text={quote(text)}&url={quote(url, safe='')}",
        "facebook": f"https://www.facebook.com/sharer/sharer.php?u={quote(url, safe='')}",
        "email": f"mailto:?subject={quote(text)}&body={quote(url)}",
    }
    context = {"certificate": certificate, "url": url, "share": share, "is_owner": request.user == certificate.user}
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
    return render(request, "certificates/mine.html", {"certificates": selectors.certificates_of(user=request.user)})


@staff_member_required
@require_POST
def revoke(request, public_id):
    certificate = selectors.certificate_get(public_id=public_id)
    try:
        services.certificate_revoke(certificate=certificate, staff=request.user, reason=request.POST.get("reason", ""))
    except services.CertificateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The certificate is revoked; its page now says so.")
    return redirect(certificate)
