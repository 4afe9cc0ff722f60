from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import services
from .forms import ProfileForm


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(user=request.user, **form.cleaned_data)
        messages.success(request, "Your profile was saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "form_attrs": {"form": form}})


@login_required
@require_POST
def time_zone_from_browser(request):
    """The browser's zone on a first visit (static/js/time-zone.js); kept only while the learner has none."""
    try:
        services.user_time_zone_from_browser(user=request.user, name=request.POST.get("time_zone", ""))
    except services.InvalidTimeZone as exc:
        return HttpResponseBadRequest(str(exc))
    return HttpResponse(status=204)
