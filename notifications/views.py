"""Pages: the list of notifications, opening one, e-mail preferences, and the one-click unsubscribe."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import PreferencesForm
from .models import Notification
from .tokens import BadUnsubscribeLink

PER_PAGE = 30


def _list_context(request) -> dict:
    page = Paginator(selectors.notifications_for(user_id=request.user.pk), PER_PAGE).get_page(request.GET.get("page"))
    return {"page": page, "items": [selectors.notification_view(row) for row in page]}


@login_required
def notification_list(request):
    return render(request, "notifications/list.html", _list_context(request))


@login_required
def notification_open(request, pk: int):
    """Mark read, then go where the notification points: a same-site path only, never another site."""
    try:
        notification = services.notification_open(user_id=request.user.pk, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    url = notification.url
    if url and services.is_safe_path(url) and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return redirect(url)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_read(user_id=request.user.pk)
    status = "All notifications are marked read." if count else "Nothing was unread."
    if request.htmx:
        return render(request, "notifications/_mark_all_read.html", {**_list_context(request), "status": status})
    messages.success(request, status)
    return redirect("notifications:list")


@login_required
def preferences(request):
    rows = selectors.preferences_for(user_id=request.user.pk, is_staff=request.user.is_staff)
    form = PreferencesForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        try:
            services.preferences_save(user_id=request.user.pk, is_staff=request.user.is_staff, choices=form.choices())
        except services.PreferenceRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Your e-mail choices are saved.")
            return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form, "rows": rows})


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "your address"


# Mail clients send the RFC 8058 one-click POST without any token of ours; the view only ever turns e-mail
# off, and the signed link is the authority, so it is the one view exempt from CSRF.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        user, what = services.unsubscribe_target(token=token)
    except BadUnsubscribeLink as exc:
        return render(request, "notifications/unsubscribe_invalid.html", {"reason": str(exc)}, status=400)
    context = {"what": what, "address": _masked(user.email), "token": token}
    if request.method == "POST":
        services.unsubscribe(token=token)
        return render(request, "notifications/unsubscribe_done.html", context)
    return render(request, "notifications/unsubscribe.html", context)
