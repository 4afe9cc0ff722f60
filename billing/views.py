"""Billing pages: overview, start a subscription, cancel/resume, cards, and Stripe's webhook."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import gateway, selectors, services
from .forms import CardForm, FinancialAidForm
from .models import Checkout, FinancialAidApplication


@login_required
def overview(request):
    return render(request, "billing/overview.html", {"overview": selectors.billing_overview(user=request.user)})


@login_required
@require_POST
def start(request):
    with_trial = request.POST.get("trial") == "1"
    success = request.build_absolute_uri(reverse("billing:welcome")) + "?session_id={CHECKOUT_SESSION_ID}"
    try:
        checkout = services.checkout_start(
            user=request.user,
            with_trial=with_trial,
            success_url=success,
            cancel_url=request.build_absolute_uri(reverse("billing:overview")),
        )
    except (services.BillingError, gateway.GatewayError) as exc:
        messages.error(request, str(exc))
        return redirect("billing:overview")
    return redirect(checkout.url)


@login_required
def welcome(request):
    """Where Stripe Checkout (or the local card page) returns: the trial's end and the first charge."""
    return render(request, "billing/welcome.html", {"overview": selectors.billing_overview(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request):
    """GET: what canceling does and when access ends, with a confirm button. POST: cancel."""
    if request.method == "GET":
        preview = selectors.cancel_preview(user=request.user)
        if preview is None:
            messages.info(request, "There is no subscription to cancel.")
            return redirect("billing:overview")
        context = {"preview": preview, "refund_hours": settings.BILLING_AUTO_REFUND_HOURS}
        return render(request, "billing/cancel_confirm.html", context)
    try:
        result = services.subscription_cancel(user=request.user)
    except (services.BillingError, gateway.GatewayError) as exc:
        messages.error(request, str(exc))
    else:
        subscription = result.subscription
        if result.refund_pending:
            messages.success(
                request,
                "Your subscription has ended; completed courses stay open. Your refund could not be sent just "
                "now: we keep trying and e-mail you when it is on its way.",
            )
        elif result.ended_now:
            messages.success(
                request,
                "Your subscription has ended and your last payment is being refunded; completed courses stay open.",
            )
        else:
            ends_at = selectors.subscription_renews_at(subscription=subscription, now=timezone.now())
            when = f"on {date_format(timezone.localtime(ends_at), 'j F Y')}" if ends_at else "at the end of the period"
            messages.success(
                request,
                f"Your subscription ends {when}; completed courses stay open. Nothing more is charged.",
            )
    return redirect("billing:overview")


@login_required
@require_POST
def resume(request):
    try:
        services.subscription_resume(user=request.user)
    except (services.BillingError, gateway.GatewayError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Welcome back: your subscription continues.")
    return redirect("billing:overview")


@login_required
@require_POST
def card(request):
    """Update the card: Stripe's Customer Portal (or the local card page against localstripe)."""
    return_url = request.build_absolute_uri(reverse("billing:overview"))
    try:
        url = services.card_update_url(user=request.user, return_url=return_url)
    except (services.BillingError, gateway.GatewayError) as exc:
        messages.error(request, str(exc))
        return redirect("billing:overview")
    return redirect(url)


def _local_only():
    if not gateway.current().takes_card_details:
        raise Http404("The local card page exists only against localstripe.")


@login_required
def local_checkout(request, checkout_id):
    _local_only()
    checkout = get_object_or_404(Checkout, pk=checkout_id, user=request.user, mode=Checkout.Mode.LOCAL)
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.checkout_complete_local(checkout=checkout, **form.cleaned_data)
        except (services.BillingError, gateway.GatewayError) as exc:
            if selectors.subscription_state_of(user=request.user).is_live:
                # Subscribed meanwhile (another tab): this card page has nothing left to do.
                messages.info(request, str(exc))
                return redirect("billing:overview")
            form.add_error(None, str(exc))
        else:
            return redirect("billing:welcome")
    status = 400 if form.errors else 200
    plan = checkout.plan
    return render(request, "billing/local_card.html", {"form": form, "checkout": checkout, "plan": plan}, status=status)


@login_required
def local_card(request):
    _local_only()
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            last4 = services.card_update_local(user=request.user, **form.cleaned_data)
        except (services.BillingError, gateway.GatewayError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Card ending {last4} saved for your next payments.")
            return redirect("billing:overview")
    context = {"form": form, "checkout": None}
    return render(request, "billing/local_card.html", context, status=400 if form.errors else 200)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        services.webhook_event_record(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except services.WebhookRejected as exc:
        return HttpResponseBadRequest(f"Rejected: {exc}")
    return HttpResponse("ok")


@login_required
@require_http_methods(["GET", "POST"])
def financial_aid(request):
    """Apply for financial aid (a short form), and see what became of earlier applications."""
    form = FinancialAidForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.aid_apply(
                user=request.user,
                circumstances=data["circumstances"],
                goals=data["goals"],
                whole_specialization=data["scope"] == "whole",
                course_ids=data["course_ids"],
            )
        except services.BillingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Thank you: your application is in. We e-mail you when staff have decided.")
            return redirect("billing:financial_aid")
    applications = FinancialAidApplication.objects.filter(user=request.user).order_by("-created_at")
    pending = any(a.status == FinancialAidApplication.Status.PENDING for a in applications)
    context = {"form": form, "form_attrs": {"form": form}, "applications": applications, "pending": pending}
    return render(request, "billing/financial_aid.html", context)
