"""The nightly reconciliation: re-read from Stripe what a lost webhook can leave wrong, repair it, and
keep a report for staff (ReconciliationRun, in the admin). A lost webhook costs at most a day.

Per customer of ours: every subscription (also ones we hold no row for) and the invoices of the last
BILLING_RECONCILE_DAYS with their refunds. Then what that does not cover: our other non-final
subscriptions and invoices, recent disputes, automatic refunds Stripe has not made yet, and the
webhook events still to process (bounded: oldest first, at most BILLING_WEBHOOK_REQUEUE_BATCH a run,
none older than BILLING_WEBHOOK_REQUEUE_MAX_AGE_DAYS, which are left for staff).
"""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.fields.json import KT
from django.utils import timezone

from .. import gateway
from ..models import Customer, Dispute, Invoice, ReconciliationRun, Refund, Subscription, WebhookEvent
from ..state import subscription_state
from . import invoices as invoice_services
from .subscriptions import fresh_stamp, subscription_sync

_SUBSCRIPTION_FIELDS = (
    "status",
    "trial_end",
    "current_period_end",
    "cancel_at_period_end",
    "ended_at",
    "past_due_since",
)
_OPEN_INVOICE_STATUSES = ("", "draft", "open", "uncollectible")


@dataclasses.dataclass
class _Report:
    now: datetime.datetime
    checked: int = 0
    repaired: int = 0
    lines: list = dataclasses.field(default_factory=list)
    seen_subscriptions: set = dataclasses.field(default_factory=set)
    seen_invoices: set = dataclasses.field(default_factory=set)

    @property
    def stamp(self) -> int:
        return int(self.now.timestamp())


def billing_reconcile(*, now: datetime.datetime | None = None) -> ReconciliationRun:
    """Repair what Stripe says differently from us, and record what was repaired."""
    now = now or timezone.now()
    run = ReconciliationRun.objects.create()
    report = _Report(now=now)
    since = int((now - datetime.timedelta(days=settings.BILLING_RECONCILE_DAYS)).timestamp())
    gw = gateway.current()
    for customer in Customer.objects.exclude(stripe_customer_id=None).select_related("user").order_by("id"):
        try:
            subscriptions = gw.subscriptions_list(customer_id=customer.stripe_customer_id)
            invoices = gw.invoices_list(customer_id=customer.stripe_customer_id, since=since)
        except gateway.GatewayError as exc:
            report.lines.append(f"{customer.stripe_customer_id} ({customer.user.email}): could not read ({exc})")
            continue
        for data in subscriptions:
            _subscription_reconcile(data, report=report, user=customer.user)
        for data in invoices:
            _invoice_reconcile(data, report=report)
    _rows_not_listed(report)
    _disputes_reconcile(since=since, report=report)
    _refunds_retry(report)
    _webhook_events_requeue(report)
    run.checked, run.repaired = report.checked, report.repaired
    run.report = "\n".join(report.lines) or "No drift."
    run.finished_at = timezone.now()
    run.save()
    return run


def _subscription_reconcile(data: dict, *, report: _Report, user=None) -> None:
    report.seen_subscriptions.add(data["id"])
    row = Subscription.objects.filter(stripe_subscription_id=data["id"]).select_related("user").first()
    if row is not None and row.is_final:
        return  # canceled is terminal in Stripe: nothing left to drift
    if row is None and (data.get("status") in Subscription.FINAL_STATUSES or data.get("ended_at")):
        return  # an ended subscription we never held gives nothing; no row, no "ended" e-mail
    report.checked += 1
    before = {name: getattr(row, name) for name in _SUBSCRIPTION_FIELDS} if row else None
    after = subscription_sync(
        data=data, stripe_time=fresh_stamp(row, now=report.now) if row else report.stamp, user=user
    )
    if after is None:
        report.lines.append(f"{data['id']}: belongs to no customer we know; left for staff")
        return
    where = f"{after.stripe_subscription_id} ({after.user.email})"
    if before is None:
        report.repaired += 1
        report.lines.append(f"{where}: new, {after.status} (no webhook had told us)")
        live = [
            s for s in Subscription.objects.filter(user=after.user) if subscription_state(s, now=report.now).is_live
        ]
        if len(live) > 1:
            names = ", ".join(s.stripe_subscription_id for s in live)
            report.lines.append(f"{after.user.email} has {len(live)} live subscriptions ({names}): staff to check")
        return
    changes = [
        f"{name}: {before[name]} → {getattr(after, name)}"
        for name in _SUBSCRIPTION_FIELDS
        if before[name] != getattr(after, name)
    ]
    if changes:
        report.repaired += 1
        report.lines.append(f"{where}: " + "; ".join(changes))


def _invoice_reconcile(data: dict, *, report: _Report) -> None:
    """An invoice as Stripe has it now, and the refunds of its charge."""
    report.seen_invoices.add(data["id"])
    row = Invoice.objects.filter(stripe_invoice_id=data["id"]).first()
    final = row is not None and row.status in ("paid", "void")
    before = _invoice_facts(row)
    if not final:
        if invoice_services.invoice_owner(data=data) is None:
            return  # an invoice of no learner we know: its events wait as unmatched
        report.checked += 1
        invoice, became_paid = invoice_services.invoice_sync(data=data, stripe_time=report.stamp)
        if became_paid:
            invoice_services.invoice_receipt_send(invoice=invoice)
    invoice = Invoice.objects.filter(stripe_invoice_id=data["id"]).select_related("user").first()
    if invoice is None:
        return
    if (
        invoice.status == "paid"
        and invoice.amount_paid > 0
        and (invoice.stripe_charge_id or invoice.stripe_payment_intent_id)
    ):
        try:
            _refunds_reconcile(invoice)
        except gateway.GatewayError as exc:
            report.lines.append(f"{invoice.stripe_invoice_id}: could not read its refunds ({exc})")
        invoice.refresh_from_db()
    after = _invoice_facts(invoice)
    if before == after:
        return
    if final:
        report.checked += 1
    report.repaired += 1
    who = invoice.user.email if invoice.user else "no learner"
    if row is None:
        changes = [f"new, {after['status']}, paid {after['paid'] / 100:.2f}"]
    else:
        changes = [f"status: {before['status']} → {after['status']}"] if before["status"] != after["status"] else []
        for name in ("paid", "refunded"):
            if before[name] != after[name]:
                changes.append(f"{name} {before[name] / 100:.2f} → {after[name] / 100:.2f}")
    report.lines.append(f"{invoice.stripe_invoice_id} ({who}): " + "; ".join(changes))


def _invoice_facts(invoice: Invoice | None) -> dict | None:
    if invoice is None:
        return None
    return {"status": invoice.status, "paid": invoice.amount_paid, "refunded": invoice.amount_refunded}


def _refunds_reconcile(invoice: Invoice) -> None:
    """Stripe's refunds of the invoice's charge, recorded as a charge.refunded event would have."""
    made = gateway.current().refunds_list(
        charge_id=invoice.stripe_charge_id, payment_intent_id=invoice.stripe_payment_intent_id
    )
    made = [r for r in made if r.get("status") in ("succeeded", "pending")]
    known = set(Refund.objects.filter(invoice=invoice).values_list("stripe_refund_id", flat=True))
    covered = {r["id"] for r in made} <= known and invoice.amount_refunded >= sum(r.get("amount") or 0 for r in made)
    if not made or covered:
        return
    charge = {
        "id": invoice.stripe_charge_id,
        "payment_intent": invoice.stripe_payment_intent_id,
        "amount_refunded": sum(r.get("amount") or 0 for r in made),
        "refunds": {"data": made},
    }
    invoice_services.charge_refunded_sync(data=charge)


def _rows_not_listed(report: _Report) -> None:
    """Our non-final subscriptions and invoices no customer listing covered (a customer deleted in
    Stripe, or one we never linked): read one by one."""
    gw = gateway.current()
    live = Subscription.objects.exclude(status__in=Subscription.FINAL_STATUSES).filter(ended_at__isnull=True)
    for subscription in live.exclude(stripe_subscription_id__in=report.seen_subscriptions).select_related("user"):
        try:
            data = gw.subscription_retrieve(subscription_id=subscription.stripe_subscription_id)
        except gateway.GatewayError as exc:
            report.checked += 1
            report.lines.append(f"{subscription.stripe_subscription_id}: could not read ({exc}); will retry tomorrow")
            continue
        if data is None:
            report.checked += 1
            report.lines.append(f"{subscription.stripe_subscription_id}: unknown to Stripe; left for staff to check")
            continue
        _subscription_reconcile(data, report=report)
    pending = Invoice.objects.filter(status__in=_OPEN_INVOICE_STATUSES).exclude(
        stripe_invoice_id__in=report.seen_invoices
    )
    for invoice in pending:
        try:
            data = gw.invoice_retrieve(invoice_id=invoice.stripe_invoice_id)
        except gateway.GatewayError as exc:
            report.lines.append(f"{invoice.stripe_invoice_id}: could not read ({exc}); will retry tomorrow")
            continue
        if data is not None:
            _invoice_reconcile(data, report=report)


def _disputes_reconcile(*, since: int, report: _Report) -> None:
    try:
        disputes = gateway.current().disputes_list(since=since)
    except gateway.GatewayError as exc:
        report.lines.append(f"Disputes: could not read ({exc}); will retry tomorrow")
        return
    for data in disputes:
        before = Dispute.objects.filter(stripe_dispute_id=data["id"]).values_list("status", flat=True).first()
        if before is not None and before == data.get("status"):
            continue
        report.checked += 1
        report.repaired += 1
        dispute = invoice_services.dispute_record(data=data)
        who = dispute.user.email if dispute.user else "no learner known"
        if before is None:
            report.lines.append(f"{dispute.stripe_dispute_id} on {dispute.stripe_charge_id} ({who}): new; staff told")
        else:
            report.lines.append(f"{dispute.stripe_dispute_id} ({who}): status: {before} → {dispute.status}")


def _refunds_retry(report: _Report) -> None:
    """Automatic refunds owed after a cancel that Stripe has not made yet (the task's retries ran out)."""
    owed = Refund.objects.filter(automatic=True, status=Refund.Status.FAILED).select_related("invoice__user")
    for refund in owed.order_by("created_at")[: settings.BILLING_WEBHOOK_REQUEUE_BATCH]:
        report.checked += 1
        try:
            invoice_services.refund_retry(refund=refund)
        except gateway.GatewayError as exc:
            report.lines.append(f"Refund {refund.pk} of {refund.invoice.stripe_invoice_id}: still failing ({exc})")
            continue
        report.repaired += 1
        report.lines.append(f"Refund {refund.pk} of {refund.invoice.stripe_invoice_id}: made now")


def _webhook_events_requeue(report: _Report) -> None:
    """Events still to process, queued again: received ones whose task message vanished, failed ones
    whose task died, unmatched ones whose customer is known now. Bounded, oldest first; older ones stay
    for staff (the admin lists them by status). Processing is idempotent, so a slow one running is fine."""
    from .. import tasks

    settled = report.now - datetime.timedelta(minutes=10)  # a task may still be on its way
    oldest = report.now - datetime.timedelta(days=settings.BILLING_WEBHOOK_REQUEUE_MAX_AGE_DAYS)
    batch = settings.BILLING_WEBHOOK_REQUEUE_BATCH
    retryable = Q(status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED], received_at__lt=settled)
    known = Customer.objects.exclude(stripe_customer_id=None).values("stripe_customer_id")
    now_known = Q(status=WebhookEvent.Status.UNMATCHED, customer__in=known)
    events = WebhookEvent.objects.alias(customer=KT("payload__data__object__customer"))
    due = events.filter(retryable | now_known, received_at__gte=oldest).order_by("received_at", "id")
    pks = list(due.values_list("pk", flat=True)[: batch + 1])
    more = due.count() - batch if len(pks) > batch else 0
    for pk in pks[:batch]:
        transaction.on_commit(lambda pk=pk: tasks.process_webhook_event.delay(pk), robust=True)
    if pks:
        tail = f" (oldest first; {more} more next run)" if more else ""
        report.lines.append(f"{min(len(pks), batch)} unprocessed webhook event(s) queued again{tail}")
    too_old = events.filter(retryable, received_at__lt=oldest).count()
    if too_old:
        days = settings.BILLING_WEBHOOK_REQUEUE_MAX_AGE_DAYS
        report.lines.append(f"{too_old} unprocessed webhook event(s) older than {days} days left for staff")
    waiting = events.filter(status=WebhookEvent.Status.UNMATCHED).exclude(now_known).count()
    if waiting:
        report.lines.append(f"{waiting} event(s) for customers we do not know are kept for staff")
