"""The gateway interface: the Stripe calls both implementations make the same way, and the few they
make differently (declared here, written in production.py and local.py)."""

from __future__ import annotations

import dataclasses
import hashlib

import stripe

from . import GatewayError, client


def call(fn, *args, **kwargs):
    """One SDK call; Stripe's refusals and outages become GatewayError with a message for the learner."""
    try:
        return fn(*args, **kwargs)
    except stripe.CardError as exc:
        raise GatewayError(exc.user_message or "Your card was declined.") from exc
    except stripe.StripeError as exc:
        raise GatewayError(
            "Our payment provider could not complete this just now. Nothing was charged; please try again."
        ) from exc


def read(fn, *args, what: str, **kwargs) -> dict | None:
    """A read: the object as a dict, None when Stripe does not know it (404)."""
    try:
        return as_dict(fn(*args, **kwargs))
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise GatewayError(f"Could not read {what} from our payment provider.") from exc
    except stripe.StripeError as exc:
        raise GatewayError(f"Could not read {what} from our payment provider.") from exc


def opts(key: str) -> dict:
    return {"idempotency_key": key}


def as_dict(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def paged(list_call, params: dict, *, what: str):
    """Every object of a list call as dicts, page after page (100 a page)."""
    try:
        for obj in list_call(params=params | {"limit": 100}).auto_paging_iter():
            yield as_dict(obj)
    except stripe.StripeError as exc:
        raise GatewayError(f"Could not read {what} from our payment provider.") from exc


def listed(list_call, params: dict, *, what: str) -> list[dict]:
    return list(paged(list_call, params, what=what))


@dataclasses.dataclass(frozen=True)
class Card:
    payment_method_id: str
    fingerprint: str
    last4: str


@dataclasses.dataclass(frozen=True)
class CheckoutSession:
    """Where to send the learner to give their card: Stripe Checkout's page, or our local card page."""

    id: str  # Stripe's session id; empty for the local card page
    url: str


# Event type prefix → the SDK service that reads that kind of object (longest prefix first).
_EVENT_OBJECT_SERVICES = (
    ("customer.subscription.", ("subscriptions",)),
    ("checkout.session.", ("checkout", "sessions")),
    ("charge.dispute.", ("disputes",)),
    ("charge.refund.", ("refunds",)),
    ("charge.", ("charges",)),
    ("invoice.", ("invoices",)),
    ("refund.", ("refunds",)),
    ("customer.", ("customers",)),
)


class Gateway:
    """What billing asks of its payment provider. Subclasses say how sign-up and card updates reach
    the learner, and what a price is."""

    #: Checkout.Mode of the sign-ups this gateway starts ("stripe" or "local").
    checkout_mode: str = ""
    #: Whether learners type card details on our own page (only against localstripe: in production
    #: card numbers never reach our server).
    takes_card_details: bool = False

    # ---- what differs -------------------------------------------------------------------------

    def price_create(self, *, plan_id: int, version: int, product_id: str, amount_cents: int, currency: str) -> str:
        raise NotImplementedError

    def price_usable(self, *, price_id: str) -> bool:
        """Whether new subscriptions can still use this price (it exists and is active)."""
        raise NotImplementedError

    def checkout_session_create(
        self,
        *,
        checkout_id: int,
        customer_id: str,
        price_id: str,
        trial_days: int | None,
        success_url: str,
        cancel_url: str,
        user_id: int,
    ) -> CheckoutSession:
        raise NotImplementedError

    def card_update_url(self, *, key: str, customer_id: str, return_url: str) -> str:
        """Where the learner updates their card."""
        raise NotImplementedError

    def webhook_register(self, *, url: str, secret: str) -> None:
        raise NotImplementedError

    def disputes_list(self, *, since: int) -> list[dict]:
        """Disputes opened since `since` (a Stripe timestamp), newest first."""
        raise NotImplementedError

    # ---- the same on both ---------------------------------------------------------------------

    def product_create(self, *, plan_id: int, name: str) -> str:
        product = call(client().v1.products.create, params={"name": name}, options=opts(f"plan-{plan_id}-product"))
        return product.id

    def product_usable(self, *, product_id: str) -> bool:
        product = read(client().v1.products.retrieve, product_id, what=product_id)
        return product is not None and product.get("active", True) is not False

    def customer_create(self, *, user_id: int, generation: int, email: str, name: str) -> str:
        """The learner's customer. The key names the generation: after Stripe deleted the customer, the
        next one is a new request (the old key would answer with the deleted customer for 24 hours)."""
        customer = call(
            client().v1.customers.create,
            params={"email": email, "name": name or email, "metadata": {"user_id": str(user_id)}},
            options=opts(f"customer-user-{user_id}-g{generation}"),
        )
        return customer.id

    def card_create(self, *, key: str, number: str, exp_month: int, exp_year: int, cvc: str) -> Card:
        """Create a card payment method from details typed on our page (see takes_card_details)."""
        # Every parameter is in the key: the same card typed again is the same request, another is not.
        digest = hashlib.sha256(f"{number}|{exp_month}|{exp_year}|{cvc}".encode()).hexdigest()[:16]
        pm = call(
            client().v1.payment_methods.create,
            params={
                "type": "card",
                "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc},
            },
            options=opts(f"{key}-pm-{digest}"),
        )
        return Card(payment_method_id=pm.id, fingerprint=pm.card.fingerprint, last4=pm.card.last4)

    def card_make_default(self, *, customer_id: str, payment_method_id: str) -> None:
        c = client()
        call(c.v1.payment_methods.attach, payment_method_id, params={"customer": customer_id})
        call(
            c.v1.customers.update,
            customer_id,
            params={"invoice_settings": {"default_payment_method": payment_method_id}},
        )

    def payment_method_fingerprint(self, *, payment_method_id: str) -> str:
        pm = call(client().v1.payment_methods.retrieve, payment_method_id)
        card = getattr(pm, "card", None)
        return getattr(card, "fingerprint", "") or ""

    def subscription_create(
        self, *, key: str, customer_id: str, price_id: str, trial_end: int | None, metadata: dict
    ) -> dict:
        """A subscription on the customer's default card (the card page's sign-up)."""
        params = {"customer": customer_id, "items": [{"plan": price_id}], "metadata": metadata}
        if trial_end is not None:
            params["trial_end"] = trial_end
        return as_dict(call(client().v1.subscriptions.create, params=params, options=opts(f"{key}-subscription")))

    def subscription_retrieve(self, *, subscription_id: str) -> dict | None:
        """The subscription as Stripe has it now; None when Stripe does not know it."""
        return read(client().v1.subscriptions.retrieve, subscription_id, what="the subscription")

    def subscription_set_cancel_at_period_end(self, *, subscription_id: str, cancel: bool) -> dict:
        return as_dict(call(client().v1.subscriptions.update, subscription_id, params={"cancel_at_period_end": cancel}))

    def subscription_cancel_now(self, *, subscription_id: str) -> dict:
        return as_dict(call(client().v1.subscriptions.cancel, subscription_id))

    def subscription_set_trial_end(self, *, subscription_id: str, trial_end: int) -> dict:
        """Move the end of a running trial (staff extending it): nothing is charged before then."""
        return as_dict(call(client().v1.subscriptions.update, subscription_id, params={"trial_end": trial_end}))

    def subscription_end_trial_now(self, *, subscription_id: str) -> dict:
        return as_dict(call(client().v1.subscriptions.update, subscription_id, params={"trial_end": "now"}))

    def event_object_retrieve(self, *, event_type: str, object_id: str) -> dict | None:
        """The object an event names only by id, as Stripe has it now; None when Stripe does not know it."""
        service = client().v1
        for prefix, path in _EVENT_OBJECT_SERVICES:
            if event_type.startswith(prefix):
                for name in path:
                    service = getattr(service, name)
                break
        else:
            return None
        return read(service.retrieve, object_id, what=object_id)

    def subscriptions_list(self, *, customer_id: str) -> list[dict]:
        """Every subscription of the customer, ended ones too."""
        return listed(client().v1.subscriptions.list, {"customer": customer_id, "status": "all"}, what="subscriptions")

    def invoices_list(self, *, customer_id: str, since: int) -> list[dict]:
        """The customer's invoices created since `since`. Stripe lists the newest first, so reading stops
        at the first older one (localstripe has no `created` filter; this works on both)."""
        invoices = []
        for invoice in paged(client().v1.invoices.list, {"customer": customer_id}, what="invoices"):
            if (invoice.get("created") or 0) < since:
                break
            invoices.append(invoice)
        return invoices

    def invoice_retrieve(self, *, invoice_id: str) -> dict | None:
        return read(client().v1.invoices.retrieve, invoice_id, what="the invoice")

    def refund_create(
        self,
        *,
        refund_id: int,
        charge_id: str,
        payment_intent_id: str,
        amount_cents: int,
        reason: str,
        attempt: int = 1,
    ) -> dict:
        """Refund under our Refund row's id. Stripe keeps a failed request's answer under its key for
        24 hours, so a later attempt after a failure is a new key (`refund_find` first makes sure the
        earlier one did not go through)."""
        params: dict = {"amount": amount_cents, "metadata": {"reason": reason[:400], "refund_id": str(refund_id)}}
        if charge_id:
            params["charge"] = charge_id
        else:
            params["payment_intent"] = payment_intent_id
        key = f"refund-{refund_id}" if attempt <= 1 else f"refund-{refund_id}-attempt-{attempt}"
        return as_dict(call(client().v1.refunds.create, params=params, options=opts(key)))

    def refunds_list(self, *, charge_id: str = "", payment_intent_id: str = "") -> list[dict]:
        """Every refund of a charge (or of a payment intent's charge), newest first."""
        params = {"charge": charge_id} if charge_id else {"payment_intent": payment_intent_id}
        return listed(client().v1.refunds.list, params, what="refunds")
