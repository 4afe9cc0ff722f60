"""Stripe-shaped payloads and signing, for webhook tests. Shapes follow Stripe's API reference
(2025+ API versions: the period lives on the subscription item; invoices name their subscription
under parent.subscription_details); localstripe's older shapes come from the real server."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field

import stripe
from django.test import TestCase
from django.urls import reverse

DAY = 86400


def signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header exactly as Stripe builds it: HMAC-SHA256 of "t.payload"."""
    timestamp = timestamp or int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def event(type_: str, obj: dict, *, created: int, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
        "data": {"object": obj},
    }


def post_event(client, payload: dict, secret: str):
    """POST a signed event; the callbacks queued for after commit (the Celery task) run, as in production."""
    body = json.dumps(payload).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("billing:stripe_webhook"),
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature(body, secret),
        )


def subscription(
    sub_id: str,
    customer: str,
    *,
    status: str,
    created: int,
    period_start: int,
    period_end: int,
    trial_start: int | None = None,
    trial_end: int | None = None,
    cancel_at_period_end: bool = False,
    canceled_at: int | None = None,
    ended_at: int | None = None,
    price: str = "price_test",
    amount: int = 4900,
    user_id: int | None = None,
) -> dict:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "created": created,
        "start_date": created,
        "trial_start": trial_start,
        "trial_end": trial_end,
        "cancel_at_period_end": cancel_at_period_end,
        "cancel_at": period_end if cancel_at_period_end else None,
        "canceled_at": canceled_at,
        "ended_at": ended_at,
        "collection_method": "charge_automatically",
        "default_payment_method": "pm_card_visa",
        "latest_invoice": None,
        "livemode": False,
        "metadata": {"user_id": str(user_id)} if user_id else {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id[4:]}",
                    "object": "subscription_item",
                    "current_period_start": period_start,
                    "current_period_end": period_end,
                    "quantity": 1,
                    "price": {
                        "id": price,
                        "object": "price",
                        "currency": "usd",
                        "unit_amount": amount,
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                }
            ],
            "has_more": False,
        },
    }


def invoice(
    inv_id: str,
    customer: str,
    sub_id: str,
    *,
    status: str,
    created: int,
    amount: int,
    charge: str | None,
    billing_reason: str,
    period_start: int,
    period_end: int,
) -> dict:
    return {
        "id": inv_id,
        "object": "invoice",
        "customer": customer,
        "status": status,
        "number": f"MOOC-{inv_id[-6:].upper()}",
        "billing_reason": billing_reason,
        "amount_due": amount,
        "amount_paid": amount if status == "paid" else 0,
        "amount_remaining": 0 if status == "paid" else amount,
        "currency": "usd",
        "created": created,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_test/{inv_id}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/acct_test/{inv_id}/pdf",
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub_id}},
        "payments": {
            "object": "list",
            "data": [{"payment": {"type": "charge", "charge": charge}}] if charge else [],
        },
        "status_transitions": {"paid_at": created if status == "paid" else None, "finalized_at": created},
        "lines": {"object": "list", "data": [{"period": {"start": period_start, "end": period_end}}]},
    }


def charge_refunded(charge_id: str, *, amount: int, refunds: list[tuple[str, int]], payment_intent: str) -> dict:
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_refunded": sum(a for _, a in refunds),
        "refunded": sum(a for _, a in refunds) >= amount,
        "payment_intent": payment_intent,
        "currency": "usd",
        "refunds": {
            "object": "list",
            "data": [{"id": rid, "object": "refund", "amount": a, "status": "succeeded"} for rid, a in refunds],
        },
    }


@dataclass
class Failure:
    """A recorded error answer (Stripe's error JSON; Stripe-Should-Retry: false, so the SDK does not retry)."""

    status: int = 500
    type: str = "api_error"
    message: str = "An unknown error occurred"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    params: dict


@dataclass
class RecordingHTTPClient(stripe.HTTPClient):
    """Stands in for the network at the one edge we cannot run here (Stripe Checkout and the Customer
    Portal): records each request and answers with a recorded Stripe-shaped response."""

    responses: dict = field(default_factory=dict)  # (method, path) -> dict
    calls: list = field(default_factory=list)
    name = "recording"

    def __post_init__(self):
        super().__init__()

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parsed = urllib.parse.urlparse(url)
        raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or parsed.query)
        params = dict(urllib.parse.parse_qsl(raw))
        self.calls.append(Recorded(method.upper(), parsed.path, dict(headers or {}), params))
        body = self.responses.get((method.upper(), parsed.path))
        if body is None:
            return json.dumps({"error": {"type": "invalid_request_error", "message": "No such"}}), 404, {}
        if isinstance(body, Failure):
            error = {"error": {"type": body.type, "message": body.message}}
            return json.dumps(error), body.status, {"Request-Id": "req_recorded", "stripe-should-retry": "false"}
        return json.dumps(body), 200, {"Request-Id": "req_recorded"}

    def close(self):
        pass

    def call(self, method: str, path: str) -> Recorded:
        matches = [c for c in self.calls if c.method == method and c.path == path]
        assert matches, f"no {method} {path} in {[(c.method, c.path) for c in self.calls]}"
        return matches[-1]
