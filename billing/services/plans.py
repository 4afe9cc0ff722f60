"""Plans: what a learner pays, kept in step with a Stripe product and price."""

from __future__ import annotations

from .. import gateway
from ..models import Plan


def plan_sync(*, plan: Plan) -> Plan:
    """Give the plan a Stripe product and a price for its current amount. A changed amount gets a new
    price (Stripe prices are immutable); existing subscriptions stay on the price they started with."""
    if not plan.stripe_product_id:
        plan.stripe_product_id = gateway.product_create(plan_id=plan.pk, name=plan.name)
        plan.save(update_fields=["stripe_product_id", "updated_at"])
    if plan.needs_sync:
        version = plan.price_version + 1
        plan.stripe_price_id = gateway.price_create(
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
    """The demo plan ($49/month, 7-day trial), created once and synced with Stripe. A fresh localstripe
    has forgotten our product and price: they are created again."""
    plan = Plan.objects.filter(is_active=True).order_by("id").first() or Plan.objects.create()
    if gateway.is_local() and plan.stripe_price_id and not gateway.local_plan_exists(plan_id=plan.stripe_price_id):
        plan.stripe_product_id = plan.stripe_price_id = ""
        plan.save(update_fields=["stripe_product_id", "stripe_price_id", "updated_at"])
    return plan_sync(plan=plan)
