"""Billing admin: plans (synced to Stripe), subscriptions, invoices with the refund action, disputes
flagged for staff, every webhook event with its outcome, and the nightly reconciliation reports."""

import datetime
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from courses import api as courses_api

from . import gateway, services
from .forms import AccessGrantForm, AidDecisionForm, RefundForm, StaffActionForm
from .models import (
    AccessGrant,
    Checkout,
    Customer,
    Dispute,
    FinancialAidApplication,
    Invoice,
    Plan,
    ReconciliationRun,
    Refund,
    StaffAction,
    Subscription,
    TrialClaim,
    WebhookEvent,
)
from .state import subscription_state


class NoDeleteMixin:
    """No billing row is deleted by hand: a deleted Subscription, Customer or TrialClaim leaves Stripe
    charging a learner we no longer see (or hands out a second trial), and invoices, refunds, disputes,
    events and reports are the record. Without the delete permission Django offers neither the delete
    button nor the bulk "delete selected" action."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyMixin(NoDeleteMixin):
    """Stripe is the source of truth: these rows change through services, never by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "amount_cents", "currency", "trial_days", "is_active", "stripe_price_id", "price_version"]
    readonly_fields = ["stripe_product_id", "stripe_price_id", "price_version", "updated_at"]
    actions = ["sync_with_stripe"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        try:
            services.plan_sync(plan=obj)
        except gateway.GatewayError as exc:
            self.message_user(request, f"Saved, but not synced with Stripe: {exc}", messages.WARNING)
        else:
            self.message_user(request, "Synced with Stripe. Existing subscriptions keep the price they started with.")

    @admin.action(description="Sync with Stripe (new price when the amount changed)")
    def sync_with_stripe(self, request, queryset):
        for plan in queryset:
            try:
                services.plan_sync(plan=plan)
            except gateway.GatewayError as exc:
                self.message_user(request, f"{plan}: {exc}", messages.ERROR)


class StaffActionInline(admin.TabularInline):
    """Every staff action on the subscription: who, when, what, why, and what Stripe answered."""

    model = StaffAction
    extra = 0
    can_delete = False
    fields = ["created_at", "staff", "kind", "reason", "detail", "succeeded", "outcome"]
    readonly_fields = fields
    verbose_name = "staff action"
    verbose_name_plural = "Staff actions (who, when, what, why)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _may_manage(request) -> bool:
    return request.user.is_active and request.user.is_staff and request.user.has_perm("billing.add_staffaction")


def _manage_action(kind: StaffAction.Kind):
    """A changelist action that opens the confirmation page of one staff action for one subscription."""

    def action(modeladmin, request, queryset):
        if queryset.count() != 1:
            modeladmin.message_user(request, "Choose exactly one subscription.", messages.ERROR)
            return None
        return redirect("admin:billing_subscription_manage", queryset.get().pk, kind.value)

    action.__name__ = f"manage_{kind.value}"
    return admin.action(description=kind.label, permissions=["manage"])(action)


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only rows; staff change a subscription only through Stripe, with the actions below (each on its
    own confirmation page with a reason), and every action is listed on the subscription."""

    list_display = [
        "user",
        "stripe_subscription_id",
        "access_state",
        "status",
        "trial_end",
        "current_period_end",
        "cancel_at_period_end",
    ]
    list_filter = ["status", "cancel_at_period_end", "ends_for_completion"]
    search_fields = ["user__email", "stripe_subscription_id", "stripe_customer_id"]
    readonly_fields = ["access_state"]
    inlines = [StaffActionInline]
    change_form_template = "admin/billing/subscription/change_form.html"
    actions = [_manage_action(kind) for kind in StaffAction.Kind]

    def has_manage_permission(self, request) -> bool:
        return _may_manage(request)

    @admin.display(description="Access (what the learner gets now)")
    def access_state(self, obj) -> str:
        # Stripe's raw status can differ from what it grants (a running trial reported as incomplete,
        # a past_due within its grace days): staff see the access policy's own answer beside it.
        return subscription_state(obj, now=timezone.now()).label

    def get_urls(self):
        manage = path(
            "<int:pk>/manage/<str:kind>/",
            self.admin_site.admin_view(self.manage_view),
            name="billing_subscription_manage",
        )
        return [manage, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        subscription = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if subscription is not None and _may_manage(request):
            extra_context["staff_actions"] = services.staff_actions_available(
                subscription=subscription, now=timezone.now()
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def manage_view(self, request, pk: int, kind: str):
        if not _may_manage(request):
            raise PermissionDenied
        subscription = get_object_or_404(Subscription.objects.select_related("user"), pk=pk)
        if kind not in StaffAction.Kind.values:
            raise Http404("No such action.")
        label = StaffAction.Kind(kind).label
        change_url = reverse("admin:billing_subscription_change", args=[subscription.pk])
        check = services.check_staff_action(subscription=subscription, kind=kind, now=timezone.now())
        extend = kind == StaffAction.Kind.EXTEND_TRIAL
        form = StaffActionForm(request.POST if request.method == "POST" else None, extend_trial=extend)
        if request.method == "POST" and check.allowed and form.is_valid():
            try:
                action = services.subscription_staff_action(
                    subscription=subscription,
                    staff=request.user,
                    kind=kind,
                    reason=form.cleaned_data["reason"],
                    trial_days=form.cleaned_data.get("trial_days"),
                )
            except (services.BillingError, gateway.GatewayError) as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"{label}: done through Stripe. {action.detail}".strip())
                return redirect(change_url)
        if not check.allowed:
            form.add_error(None, check.message)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}: {subscription.user}",
            "subscription": subscription,
            "state": subscription_state(subscription, now=timezone.now()),
            "kind": kind,
            "label": label,
            "allowed": check.allowed,
            "form": form,
            "change_url": change_url,
            "opts": self.model._meta,
            "refund_invoice": services.staff.refundable_invoice(subscription)
            if kind == StaffAction.Kind.END_NOW_REFUND
            else None,
        }
        return render(request, "admin/billing/staff_action.html", context)


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "subscription", "kind", "staff", "reason", "succeeded"]
    list_filter = ["kind", "succeeded"]
    search_fields = ["subscription__user__email", "staff__email", "reason"]
    actions = None


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["stripe_invoice_id", "user", "status", "amount_paid", "amount_refunded", "currency", "paid_at"]
    list_filter = ["status"]
    search_fields = ["stripe_invoice_id", "user__email", "stripe_charge_id"]
    actions = ["refund"]

    @admin.action(description="Refund the payment (fully or partly, with a reason)")
    def refund(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Refund one invoice at a time.", messages.ERROR)
            return None
        invoice = queryset.get()
        form = RefundForm(
            request.POST if "apply" in request.POST else None,
            initial={"amount": Decimal(invoice.refundable_cents) / 100},
        )
        if "apply" in request.POST and form.is_valid():
            try:
                refund = services.refund_create(
                    invoice=invoice,
                    amount_cents=int(form.cleaned_data["amount"] * 100),
                    reason=form.cleaned_data["reason"],
                    requested_by=request.user,
                )
            except (services.BillingError, gateway.GatewayError) as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Refunded {refund.amount_cents / 100:.2f}; the learner was e-mailed.")
                return None
        return render(
            request,
            "admin/billing/refund.html",
            {**self.admin_site.each_context(request), "invoice": invoice, "form": form, "title": "Refund"},
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["invoice", "amount_cents", "reason", "automatic", "status", "requested_by", "created_at"]
    list_filter = ["automatic", "status"]


@admin.register(Dispute)
class DisputeAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["stripe_dispute_id", "user", "amount_cents", "reason", "status", "handled", "created_at"]
    list_filter = ["handled", "status"]
    readonly_fields = [f.name for f in Dispute._meta.fields if f.name != "handled"]
    actions = ["mark_handled"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark handled")
    def mark_handled(self, request, queryset):
        queryset.update(handled=True)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["stripe_event_id", "type", "status", "outcome", "attempts", "received_at"]
    list_filter = ["status", "type"]
    search_fields = ["stripe_event_id", "type", "outcome"]
    actions = ["reprocess"]

    @admin.action(description="Process again (failed, gave up or unmatched events)")
    def reprocess(self, request, queryset):
        retry = [*WebhookEvent.RETRYABLE, WebhookEvent.Status.GAVE_UP]
        for event in queryset.filter(status__in=retry):
            try:
                event = services.webhook_event_process(event_pk=event.pk)
            except Exception as exc:  # noqa: BLE001 - shown to staff, kept on the event
                self.message_user(request, f"{event}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{event}: {event.get_status_display()}. {event.outcome}")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["started_at", "checked", "repaired", "finished_at"]
    actions = None


@admin.register(Customer)
class CustomerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "stripe_customer_id", "created_at"]
    search_fields = ["user__email", "stripe_customer_id"]


@admin.register(TrialClaim)
class TrialClaimAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "card_fingerprint", "stripe_subscription_id", "created_at"]


@admin.register(Checkout)
class CheckoutAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "mode", "status", "with_trial", "created_at"]


@admin.register(AccessGrant)
class AccessGrantAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Complimentary access: staff give it here (chosen courses or the whole specialization, until a date);
    a grant is never edited or deleted afterwards, only revoked (and kept as the record)."""

    form = AccessGrantForm
    list_display = ["user", "kind", "what", "until", "granted_by", "created_at", "revoked_at"]
    list_filter = ["kind", "whole_specialization"]
    search_fields = ["user__email", "reason"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "kind", "whole_specialization", "courses", "until", "reason"]
        return [
            "user",
            "kind",
            "what",
            "until",
            "reason",
            "granted_by",
            "created_at",
            "revoked_at",
            "revoked_by",
            "application",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    @admin.display(description="Opens")
    def what(self, obj) -> str:
        if obj.whole_specialization:
            return "The whole specialization"
        titles = {course.course_id: course.title for course in courses_api.courses_all()}
        return ", ".join(titles.get(course_id, f"course {course_id}") for course_id in obj.course_ids)

    def save_model(self, request, obj, form, change):
        grant = services.grant_create(
            user=form.cleaned_data["user"],
            whole_specialization=form.cleaned_data["whole_specialization"],
            course_ids=form.cleaned_data["courses"],
            until=form.cleaned_data["until"],
            kind=form.cleaned_data["kind"],
            reason=form.cleaned_data["reason"],
            granted_by=request.user,
        )
        obj.pk = grant.pk

    def save_related(self, request, form, formsets, change):
        pass  # grant_create wrote everything

    @admin.action(description="Revoke now")
    def revoke(self, request, queryset):
        for grant in queryset.filter(revoked_at__isnull=True):
            services.grant_revoke(grant=grant, by=request.user)
        self.message_user(request, "Revoked: the access they gave ends now.")


@admin.register(FinancialAidApplication)
class FinancialAidApplicationAdmin(NoDeleteMixin, admin.ModelAdmin):
    """The review queue: oldest waiting first; 'Review' opens the application with approve and decline."""

    list_display = ["created_at", "user", "status", "asks_for", "review_link"]
    list_filter = ["status"]
    search_fields = ["user__email", "circumstances", "goals"]
    ordering = ["created_at"]
    readonly_fields = [
        "user",
        "status",
        "asks_for",
        "circumstances",
        "goals",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_note",
        "grant",
    ]
    fields = readonly_fields
    change_form_template = "admin/billing/financialaidapplication/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # The queue opens on what waits for a decision.
        if "status__exact" not in request.GET and not request.GET.get("_changelist_filters") and not request.GET:
            return redirect(f"{request.path}?status__exact=pending")
        return super().changelist_view(request, extra_context)

    @admin.display(description="Asks for")
    def asks_for(self, obj) -> str:
        if obj.whole_specialization:
            return "The whole specialization"
        titles = {course.course_id: course.title for course in courses_api.courses_all()}
        return ", ".join(titles.get(course_id, f"course {course_id}") for course_id in obj.course_ids)

    @admin.display(description="Decision")
    def review_link(self, obj) -> str:
        if obj.status != FinancialAidApplication.Status.PENDING:
            return obj.get_status_display()
        url = reverse("admin:billing_financialaidapplication_review", args=[obj.pk])
        return format_html('<a class="button" href="{}">Review application</a>', url)

    def get_urls(self):
        review = path(
            "<int:pk>/review/",
            self.admin_site.admin_view(self.review_view),
            name="billing_financialaidapplication_review",
        )
        return [review, *super().get_urls()]

    def review_view(self, request, pk: int):
        if not request.user.has_perm("billing.add_accessgrant"):
            raise PermissionDenied
        application = get_object_or_404(FinancialAidApplication.objects.select_related("user"), pk=pk)
        default_until = timezone.localdate() + datetime.timedelta(days=180)
        form = AidDecisionForm(request.POST if request.method == "POST" else None, initial={"until": default_until})
        if request.method == "POST" and form.is_valid():
            try:
                if "approve" in request.POST:
                    until = form.cleaned_data["until"]
                    if until is None:
                        raise services.BillingError("Give the last day of free access to approve.")
                    services.aid_approve(
                        application=application, staff=request.user, until=until, note=form.cleaned_data["note"]
                    )
                    done = f"Approved: {application.user} has free access until {until:%d %B %Y}; e-mailed."
                else:
                    services.aid_decline(application=application, staff=request.user, note=form.cleaned_data["note"])
                    done = f"Declined; {application.user} was e-mailed the reason."
            except services.BillingError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, done)
                return redirect(reverse("admin:billing_financialaidapplication_changelist") + "?status__exact=pending")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Financial aid: {application.user}",
            "application": application,
            "asks_for": self.asks_for(application),
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/aid_review.html", context)
