"""Writes to billing state, one module per concern. Webhooks are the source of truth; API responses and
the nightly reconciliation feed the same `subscription_sync`, which never lets an older snapshot
overwrite a newer one.

- plans.py: the plan and its Stripe price
- customers.py: our learners as Stripe customers
- checkout.py: starting a subscription, and cards
- subscriptions.py: subscription state (the one writer), cancel, resume, ending after completion
- grants.py: complimentary access and financial-aid applications
- staff.py: what staff do to a subscription from the admin (through Stripe, recorded)
- invoices.py: invoices, refunds and disputes
- webhooks.py: storing and processing Stripe's events
- reconciliation.py: the nightly repair
Reading Stripe's JSON is billing/stripe_payloads.py. This package re-exports the functions billing's
own views, admin, commands and tasks call; other apps use billing/api.py only.
"""

from .checkout import card_update_local, card_update_url, checkout_check, checkout_complete_local, checkout_start
from .customers import customer_ensure, customer_forget, customer_link, customer_lock
from .errors import BillingError, TrialRefused, WebhookRejected
from .grants import aid_apply, aid_approve, aid_decline, check_grant, grant_create, grant_revoke
from .invoices import (
    charge_refunded_sync,
    dispute_record,
    invoice_owner,
    invoice_receipt_send,
    invoice_sync,
    refund_automatic,
    refund_create,
    refund_give_up,
    refund_retry,
)
from .plans import plan_ensure_default, plan_sync
from .reconciliation import billing_reconcile
from .staff import (
    MAX_TRIAL_EXTENSION_DAYS,
    check_staff_action,
    staff_actions_available,
    subscription_staff_action,
)
from .subscriptions import (
    CancelResult,
    subscription_cancel,
    subscription_end_for_completion,
    subscription_refuse_second,
    subscription_resume,
    subscription_sync,
)
from .webhooks import (
    webhook_event_give_up,
    webhook_event_process,
    webhook_event_record,
    webhook_events_requeue_for_customer,
)

__all__ = [
    "MAX_TRIAL_EXTENSION_DAYS",
    "BillingError",
    "CancelResult",
    "TrialRefused",
    "WebhookRejected",
    "aid_apply",
    "aid_approve",
    "aid_decline",
    "billing_reconcile",
    "card_update_local",
    "card_update_url",
    "charge_refunded_sync",
    "check_grant",
    "check_staff_action",
    "checkout_check",
    "checkout_complete_local",
    "checkout_start",
    "customer_ensure",
    "customer_forget",
    "customer_link",
    "customer_lock",
    "dispute_record",
    "grant_create",
    "grant_revoke",
    "invoice_owner",
    "invoice_receipt_send",
    "invoice_sync",
    "plan_ensure_default",
    "plan_sync",
    "refund_automatic",
    "refund_create",
    "refund_give_up",
    "refund_retry",
    "staff_actions_available",
    "subscription_cancel",
    "subscription_end_for_completion",
    "subscription_refuse_second",
    "subscription_resume",
    "subscription_staff_action",
    "subscription_sync",
    "webhook_event_give_up",
    "webhook_event_process",
    "webhook_event_record",
    "webhook_events_requeue_for_customer",
]
