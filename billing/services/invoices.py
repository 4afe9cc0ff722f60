"""Invoices, refunds and disputes: our copy of Stripe's, and the refunds staff (or the auto-refund rule)
make. Invoices only move forward; refunds seen before their invoice wait for it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse

from .. import emails, gateway
from .. import stripe_payloads as payloads
from ..models import Customer, Dispute, Invoice, Refund, Subscription, WebhookEvent
from .errors import BillingError


def invoice_sync(*, data: dict, stripe_time: int, paid: bool | None = None) -> tuple[Invoice, bool]:
    """Upsert an invoice. Its status only moves forward (draft → open → paid/void), amounts only grow,
    and references follow the newest snapshot; returns (invoice, became_paid) so the receipt goes out
    once however often and in whatever order the events arrive."""
    subscription_id, charge_id, payment_intent_id = payloads.invoice_refs(data)
    status = data.get("status") or ""
    if paid:
        status = "paid"
    with transaction.atomic():
        invoice, _ = Invoice.objects.select_for_update().get_or_create(stripe_invoice_id=data["id"])
        before = invoice.status
        if Invoice.STATUS_RANK.get(status, 0) >= Invoice.STATUS_RANK.get(before, 0):
            invoice.status = status
        invoice.stripe_customer_id = payloads.ref_id(data.get("customer")) or invoice.stripe_customer_id
        invoice.stripe_subscription_id = subscription_id or invoice.stripe_subscription_id
        if stripe_time >= invoice.synced_at_stripe or not invoice.stripe_charge_id:
            # A retried payment makes a new charge: the newest snapshot names the one that counts.
            invoice.stripe_charge_id = charge_id or invoice.stripe_charge_id
            invoice.stripe_payment_intent_id = payment_intent_id or invoice.stripe_payment_intent_id
            invoice.synced_at_stripe = max(stripe_time, invoice.synced_at_stripe)
        invoice.number = data.get("number") or invoice.number
        invoice.billing_reason = data.get("billing_reason") or invoice.billing_reason
        invoice.amount_due = data.get("amount_due") or invoice.amount_due
        invoice.amount_paid = max(invoice.amount_paid, data.get("amount_paid") or 0)
        invoice.currency = data.get("currency") or invoice.currency
        invoice.hosted_invoice_url = data.get("hosted_invoice_url") or invoice.hosted_invoice_url
        invoice.invoice_pdf = data.get("invoice_pdf") or invoice.invoice_pdf
        period_start, period_end = payloads.invoice_period(data)
        if period_start or period_end:
            invoice.period_start = payloads.ts(period_start)
            invoice.period_end = payloads.ts(period_end)
        invoice.stripe_created = payloads.ts(data.get("created")) or invoice.stripe_created
        if invoice.status == "paid" and invoice.paid_at is None:
            paid_at = (data.get("status_transitions") or {}).get("paid_at") or data.get("created")
            invoice.paid_at = payloads.ts(paid_at)
        if invoice.user_id is None:
            invoice.user_id = invoice_owner(data=data)
        invoice.save()
        if invoice.stripe_charge_id:
            # Refunds seen on the charge before this invoice's event get attached now.
            Refund.objects.filter(stripe_charge_id=invoice.stripe_charge_id, invoice__isnull=True).update(
                invoice=invoice
            )
            _recount_refunded(invoice, reported=_refunded_reported(charge_id=invoice.stripe_charge_id))
            if invoice.user_id:
                # So is a dispute opened on the charge before the invoice's event came.
                Dispute.objects.filter(stripe_charge_id=invoice.stripe_charge_id, user__isnull=True).update(
                    user_id=invoice.user_id
                )
    return invoice, before != "paid" and invoice.status == "paid"


def invoice_receipt_send(*, invoice: Invoice) -> bool:
    """The receipt for a payment, sent when the invoice first becomes paid (whoever noticed)."""
    if invoice.amount_paid <= 0 or not invoice.user:
        return False
    emails.notify_learner(
        user=invoice.user, template="receipt", event_key=invoice.stripe_invoice_id, context={"invoice": invoice}
    )
    return True


def invoice_owner(*, data: dict) -> int | None:
    """The learner an invoice belongs to (a user id): the one its customer is, else the one its
    subscription belongs to, else the one our copy already names. None for a customer we do not know."""
    customer_id = payloads.ref_id(data.get("customer"))
    subscription_id = payloads.invoice_refs(data)[0]
    owner = (
        Customer.objects.filter(stripe_customer_id=customer_id).values_list("user_id", flat=True).first()
        if customer_id
        else None
    )
    if owner is None and subscription_id:
        owner = Subscription.objects.filter(stripe_subscription_id=subscription_id).values_list("user_id", flat=True)
        owner = owner.first()
    if owner is None and data.get("id"):
        owner = Invoice.objects.filter(stripe_invoice_id=data["id"]).values_list("user_id", flat=True).first()
    return owner


def _refunded_reported(*, charge_id: str) -> int:
    """The largest amount_refunded a stored charge.refunded event reported for the charge. Since API
    2022-11-15 a charge's refunds list is not included, so for a refund seen before its invoice's event
    that total is all there is to go on."""
    amounts = WebhookEvent.objects.filter(type="charge.refunded", payload__data__object__id=charge_id).values_list(
        "payload__data__object__amount_refunded", flat=True
    )
    return max((a for a in amounts if isinstance(a, int) and not isinstance(a, bool)), default=0)


def _recount_refunded(invoice: Invoice, *, reported: int = 0) -> None:
    done = sum(invoice.refunds.exclude(status=Refund.Status.FAILED).values_list("amount_cents", flat=True))
    total = max(invoice.amount_refunded, reported, done)
    if total != invoice.amount_refunded:
        invoice.amount_refunded = total
        invoice.save(update_fields=["amount_refunded"])


def refund_create(
    *, invoice: Invoice, amount_cents: int, reason: str, requested_by=None, automatic: bool = False
) -> Refund:
    """Refund all or part of a paid invoice and tell the learner. Raises BillingError for a bad request
    and GatewayError when Stripe refuses or cannot be reached (the Refund row then says failed)."""
    refund = _refund_record(
        invoice=invoice, amount_cents=amount_cents, reason=reason, requested_by=requested_by, automatic=automatic
    )
    _refund_send(refund)
    return refund


def refund_automatic(*, invoice: Invoice, reason: str) -> Refund:
    """The refund a rule owes the learner, in full, made only once the change it pays for has happened
    (a canceled subscription). It never raises: the change stands, and a refund Stripe did not make is
    retried by a task (`refund_retry`) until it is."""
    from .. import tasks

    existing = invoice.refunds.filter(automatic=True).first()
    if existing is not None:
        return existing
    refund = _refund_record(invoice=invoice, amount_cents=invoice.refundable_cents, reason=reason, automatic=True)
    try:
        _refund_send(refund)
    except gateway.GatewayError:
        transaction.on_commit(lambda: tasks.retry_refund.delay(refund.pk), robust=True)
    return refund


def refund_retry(*, refund: Refund) -> Refund:
    """Make a refund Stripe has not made yet. An earlier attempt may have gone through without our
    hearing back: Stripe's refunds of the charge are read first, and one carrying our id is adopted."""
    refund.refresh_from_db()
    if refund.status == Refund.Status.SUCCEEDED:
        return refund
    invoice = refund.invoice
    made = gateway.current().refunds_list(
        charge_id=invoice.stripe_charge_id, payment_intent_id=invoice.stripe_payment_intent_id
    )
    ours = next((r for r in made if (r.get("metadata") or {}).get("refund_id") == str(refund.pk)), None)
    if ours is not None and ours.get("status") in ("succeeded", "pending"):
        _refund_done(refund, stripe_refund_id=ours["id"], succeeded=True)
    else:
        _refund_send(refund)
    return refund


def refund_give_up(*, refund: Refund, reason: str) -> None:
    """The retries ran out: staff make this refund by hand (the learner was promised it)."""
    invoice = refund.invoice
    emails.send(
        template="staff_alert",
        to=emails.staff_recipients(),
        context={
            "subject": f"a refund of {refund.amount_cents / 100:.2f} {invoice.currency.upper()} could not be made",
            "lines": [
                f"Learner: {invoice.user.email if invoice.user else 'unknown'}",
                f"Invoice: {invoice.stripe_invoice_id} (charge {invoice.stripe_charge_id or '-'})",
                f"Reason for the refund: {refund.reason}",
                f"Last error: {reason}",
                "Make it in the Stripe dashboard; the charge.refunded event records it here.",
            ],
            "admin_path": reverse("admin:billing_refund_change", args=[refund.pk]),
        },
    )


def _refund_record(*, invoice: Invoice, amount_cents: int, reason: str, requested_by=None, automatic=False) -> Refund:
    reason = (reason or "").strip()
    if not reason:
        raise BillingError("Give a reason for the refund; the learner sees it.")
    if invoice.status != "paid" or not (invoice.stripe_charge_id or invoice.stripe_payment_intent_id):
        raise BillingError("Only a paid invoice can be refunded.")
    if amount_cents <= 0 or amount_cents > invoice.refundable_cents:
        raise BillingError(f"The amount must be between 0.01 and {invoice.refundable_cents / 100:.2f}.")
    try:
        with transaction.atomic():
            return Refund.objects.create(
                invoice=invoice,
                stripe_charge_id=invoice.stripe_charge_id,
                amount_cents=amount_cents,
                reason=reason,
                automatic=automatic,
                requested_by=requested_by,
            )
    except IntegrityError as exc:
        raise BillingError("This payment has already been refunded automatically.") from exc


def _refund_send(refund: Refund) -> None:
    invoice = refund.invoice
    attempt = refund.attempts + 1
    Refund.objects.filter(pk=refund.pk).update(attempts=attempt)
    try:
        data = gateway.current().refund_create(
            refund_id=refund.pk,
            charge_id=invoice.stripe_charge_id,
            payment_intent_id=invoice.stripe_payment_intent_id,
            amount_cents=refund.amount_cents,
            reason=refund.reason,
            attempt=attempt,
        )
    except gateway.GatewayError:
        Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.FAILED)
        refund.refresh_from_db()
        raise
    _refund_done(refund, stripe_refund_id=data["id"], succeeded=data.get("status") in ("succeeded", "pending"))


def _refund_done(refund: Refund, *, stripe_refund_id: str, succeeded: bool) -> None:
    status = Refund.Status.SUCCEEDED if succeeded else Refund.Status.FAILED
    Refund.objects.filter(pk=refund.pk).update(stripe_refund_id=stripe_refund_id, status=status)
    refund.refresh_from_db()
    invoice = refund.invoice
    _recount_refunded(invoice)
    if succeeded and invoice.user:
        emails.notify_learner(
            user=invoice.user,
            template="refund",
            event_key=str(refund.pk),
            context={"refund": refund, "invoice": invoice},
        )


def subscription_paid_invoice(*, data: dict, stripe_time: int) -> Invoice | None:
    """The paid invoice that started a subscription (its latest invoice), read from Stripe and stored;
    None when nothing was paid (a trial) or Stripe does not know it."""
    invoice_id = payloads.ref_id(data.get("latest_invoice"))
    if not invoice_id:
        return None
    invoice_data = data["latest_invoice"] if isinstance(data.get("latest_invoice"), dict) else None
    invoice_data = invoice_data or gateway.current().invoice_retrieve(invoice_id=invoice_id)
    if invoice_data is None:
        return None
    invoice, _ = invoice_sync(data=invoice_data, stripe_time=stripe_time)
    return invoice if invoice.status == "paid" and invoice.amount_paid > 0 else None


def charge_refunded_sync(*, data: dict) -> Invoice | None:
    """Refunds seen on a charge (ours, or made in the Stripe dashboard). Kept by refund id; when the
    invoice's own event has not arrived yet they wait, keyed by charge, and are attached by invoice_sync."""
    charge_id = data["id"]
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(stripe_charge_id=charge_id).first()
        if invoice is None and data.get("payment_intent"):
            pi = payloads.ref_id(data["payment_intent"])
            invoice = Invoice.objects.select_for_update().filter(stripe_payment_intent_id=pi).first()
        for item in ((data.get("refunds") or {}).get("data")) or []:
            ours = (item.get("metadata") or {}).get("refund_id")
            if ours and str(ours).isdigit():
                # Our own refund, possibly reported before refund_create saved Stripe's id.
                Refund.objects.filter(pk=int(ours), stripe_refund_id__isnull=True).update(stripe_refund_id=item["id"])
            refund, created = Refund.objects.get_or_create(
                stripe_refund_id=item["id"],
                defaults={
                    "invoice": invoice,
                    "stripe_charge_id": charge_id,
                    "amount_cents": item.get("amount") or 0,
                    "reason": (item.get("metadata") or {}).get("reason") or "Refunded in the Stripe dashboard",
                    "status": Refund.Status.SUCCEEDED,
                },
            )
            if not created and refund.invoice_id is None and invoice is not None:
                Refund.objects.filter(pk=refund.pk).update(invoice=invoice)
            if created and invoice is not None and invoice.user:
                # A refund made in the Stripe dashboard: the learner hears of it as of one made here.
                emails.notify_learner(
                    user=invoice.user,
                    template="refund",
                    event_key=str(refund.pk),
                    context={"refund": refund, "invoice": invoice},
                )
        if invoice is not None:
            _recount_refunded(invoice, reported=data.get("amount_refunded") or 0)
    return invoice


def dispute_record(*, data: dict) -> Dispute:
    charge_id = payloads.ref_id(data.get("charge"))
    invoice = Invoice.objects.filter(stripe_charge_id=charge_id).select_related("user").first()
    dispute, created = Dispute.objects.get_or_create(
        stripe_dispute_id=data["id"],
        defaults={
            "stripe_charge_id": charge_id,
            "user": invoice.user if invoice else None,
            "amount_cents": data.get("amount") or 0,
            "currency": data.get("currency") or "usd",
            "reason": data.get("reason") or "",
            "status": data.get("status") or "",
        },
    )
    if created:
        emails.send(template="dispute_staff", to=emails.staff_recipients(), context={"dispute": dispute})
    elif data.get("status") and data["status"] != dispute.status:
        Dispute.objects.filter(pk=dispute.pk).update(status=data["status"])
        dispute.status = data["status"]
    return dispute
