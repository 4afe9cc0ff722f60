"""Reading Stripe's JSON: events, subscriptions, invoices and checkout sessions, across API versions.

Pure functions of a payload (no queries, no Stripe calls), so every path that receives a snapshot (a
webhook, an API response, the nightly re-read) reads it the same way.
"""

from __future__ import annotations

import datetime

# How far along a subscription is, for ordering two snapshots stamped the same second.
STATUS_RANK = {"incomplete": 1, "trialing": 2, "active": 3, "past_due": 4, "unpaid": 5}
FINAL_RANK = 6
FINAL_STATUSES = ("canceled", "incomplete_expired")


class NotAnEvent(ValueError):
    """A verified body that is still not something we can store as an event."""


def ts(value) -> datetime.datetime | None:
    """A Stripe timestamp (seconds) as an aware datetime; None for a missing one."""
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC) if value else None


def ref_id(value) -> str:
    """A Stripe reference that may come expanded (a dict) or as an id."""
    if isinstance(value, dict):
        return value.get("id", "") or ""
    return value or ""


def _items(data: dict) -> list:
    return (data.get("items") or {}).get("data") or []


def subscription_period(data: dict) -> tuple[int | None, int | None]:
    """Period bounds: top level on older API versions (and localstripe), per item since 2025-03."""
    start, end = data.get("current_period_start"), data.get("current_period_end")
    items = _items(data)
    if (start is None or end is None) and items:
        start = start or items[0].get("current_period_start")
        end = end or items[0].get("current_period_end")
    return start, end


def subscription_amount(data: dict) -> tuple[int, str]:
    """What one period costs (cents, currency): a price on current API versions, a plan on localstripe."""
    items = _items(data)
    if items:
        price = items[0].get("price") or items[0].get("plan") or {}
        amount = price.get("unit_amount", price.get("amount")) or 0
        return int(amount) * int(items[0].get("quantity") or 1), price.get("currency", "usd")
    return 0, "usd"


def subscription_price_id(data: dict) -> str:
    items = _items(data)
    if not items:
        return ""
    return ref_id(items[0].get("price")) or ref_id(items[0].get("plan"))


def subscription_rank(data: dict) -> int:
    if data.get("status") in FINAL_STATUSES or data.get("ended_at"):
        return FINAL_RANK
    return STATUS_RANK.get(data.get("status"), 0)


def metadata_user_id(data: dict) -> int | None:
    """The user id we put in an object's metadata (subscriptions and sessions we create carry it)."""
    user_id = (data.get("metadata") or {}).get("user_id")
    return int(user_id) if user_id and str(user_id).isdigit() else None


def checkout_reference(session: dict) -> int | None:
    """Our Checkout row's id on a Stripe Checkout Session."""
    checkout_id = session.get("client_reference_id") or (session.get("metadata") or {}).get("checkout_id")
    return int(checkout_id) if checkout_id and str(checkout_id).isdigit() else None


def invoice_refs(data: dict) -> tuple[str, str, str]:
    """(subscription, charge, payment_intent) ids across API versions."""
    subscription_id = ref_id(data.get("subscription"))
    if not subscription_id:
        details = (data.get("parent") or {}).get("subscription_details") or {}
        subscription_id = ref_id(details.get("subscription"))
    charge_id = ref_id(data.get("charge"))
    payment_intent_id = ref_id(data.get("payment_intent"))
    if not (charge_id or payment_intent_id):
        for payment in ((data.get("payments") or {}).get("data")) or []:
            inner = payment.get("payment") or {}
            charge_id = charge_id or ref_id(inner.get("charge"))
            payment_intent_id = payment_intent_id or ref_id(inner.get("payment_intent"))
    if not payment_intent_id and isinstance(data.get("charge"), dict):
        payment_intent_id = ref_id(data["charge"].get("payment_intent"))
    return subscription_id, charge_id, payment_intent_id


def invoice_period(data: dict) -> tuple[int | None, int | None]:
    lines = (data.get("lines") or {}).get("data") or []
    if lines and lines[0].get("period"):
        return lines[0]["period"].get("start"), lines[0]["period"].get("end")
    return None, None


def event_check(event, *, handled_types) -> dict:
    """A verified body must still look like a Stripe event before we store it: a JSON object with a short
    string id and type, an integer `created` (what ordering relies on) and a `data.object`."""
    if not isinstance(event, dict):
        raise NotAnEvent("Not an event: the body is not a JSON object.")
    event_id, type_, created = event.get("id"), event.get("type"), event.get("created")
    for name, value in (("id", event_id), ("type", type_)):
        if not isinstance(value, str) or not 0 < len(value) <= 100:
            raise NotAnEvent(f"Not an event: no usable {name}.")
    if isinstance(created, bool) or not isinstance(created, int) or not 0 <= created < 2**53:
        raise NotAnEvent("Not an event: no integer 'created'.")
    obj = event["data"].get("object") if isinstance(event.get("data"), dict) else None
    if not obj or not isinstance(obj, dict | str):
        raise NotAnEvent("Not an event: no data.object.")
    if type_ in handled_types and isinstance(obj, dict) and not isinstance(obj.get("id"), str):
        raise NotAnEvent(f"Not an event: the {type_} object has no id.")
    return event


def without_nul(value):
    """PostgreSQL's jsonb cannot hold NUL characters; the rest of the event still counts."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value
