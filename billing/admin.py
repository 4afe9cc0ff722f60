"""Billing admin: plans (synced to Stripe), subscriptions, invoices with the refund action, disputes
flagged for staff, every webhook event with its outcome, and the nightly reconciliation reports."""

from decimal import Decimal

from django.contrib import admin, messages
from django.shortcuts import render
from django.utils import timezone

from . import gateway, services
from .forms import RefundForm
from .models import (
    Checkout,
    Customer,
    Dispute,
    Invoice,
    Plan,
    ReconciliationRun,
    Refund,
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


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyMixin, admin.ModelAdmin):
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

    @admin.display(description="Access (what the learner gets now)")
    def access_state(self, obj) -> str:
        # Stripe's raw status can differ from what it grants (a running trial reported as incomplete,
        # a past_due within its grace days): staff see the access policy's own answer beside it.
        return subscription_state(obj, now=timezone.now()).label


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
