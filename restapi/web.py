"""The personal access token page: a learner makes tokens for their scripts (the secret is shown once,
on the answer to the form, never stored), sees each one's scope, expiry and last use, and revokes them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import TokenForm


@never_cache
@login_required
def tokens(request):
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.token_create(user=request.user, **form.cleaned_data)
        except services.TokenRefused as exc:
            form.add_error(None, str(exc))
        else:
            form = TokenForm()
            messages.success(request, f"Token “{token.name}” made. Copy it now: it will not be shown again.")
    context = {
        "form": form,
        "form_attrs": {"form": form},
        "secret": secret,
        "tokens": selectors.tokens_of(user_id=request.user.pk),
        "api_docs": request.build_absolute_uri(reverse("api:docs")),
        "api_root": request.build_absolute_uri(reverse("api:me")).removesuffix("me/"),
    }
    return render(request, "restapi/tokens.html", context)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        token = services.token_revoke(user=request.user, token_id=token_id)
    except services.TokenRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("restapi:tokens")
