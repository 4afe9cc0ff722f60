"""Plans: what a learner pays, kept in step with a Stripe product and price."""

from __future__ import annotations

from .. import gateway
from ..models import Plan


def plan_sync(*, plan: Plan) -> Plan:
    """Give the plan a Stripe product and a price for its current amount. A changed amount gets a new
    price (Stripe prices are immutable); existing subscriptions stay on the price they started with."""
    gw = gateway.current()
    if not plan.stripe_product_id:
        plan.stripe_product_id = gw.product_create(plan_id=plan.pk, name=plan.name)
        plan.save(update_fields=["stripe_product_id", "updated_at"])
    if plan.needs_sync:
        version = plan.price_version + 1
        plan.stripe_price_id = gw.price_create(
            plan_id=plan.pk,
            version=version,
            product_id=plan.stripe_product_id,
            amount_cents=plan.amount_cents,
            currency=plan.currency,
        )
        plan.price_version = version
        plan.synced_amount_cents = plan.amount_cents
        plan.synced_currency = plan.currency
        plan.save()
    return plan


def plan_ensure_default() -> Plan:
    """The demo plan ($49/month, 7-day trial), created once and synced with Stripe. A product or price
    the provider no longer has (a fresh localstripe forgets everything; a price archived in the Stripe
    dashboard takes no new subscriptions) is created again."""
    gw = gateway.current()
    plan = Plan.objects.filter(is_active=True).order_by("id").first() or Plan.objects.create()
    known = (plan.stripe_product_id, plan.stripe_price_id)
    if plan.stripe_product_id and not gw.product_usable(product_id=plan.stripe_product_id):
        plan.stripe_product_id = plan.stripe_price_id = ""
    if plan.stripe_price_id and not gw.price_usable(price_id=plan.stripe_price_id):
        plan.stripe_price_id = ""
    if (plan.stripe_product_id, plan.stripe_price_id) != known:
        plan.save(update_fields=["stripe_product_id", "stripe_price_id", "updated_at"])
    return plan_sync(plan=plan)
