"""Create the plan in Stripe (product + monthly price) and, against localstripe, register the webhook."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing import gateway, services


class Command(BaseCommand):
    help = (
        "Sync the active plan ($49/month, 7-day trial unless edited in the admin) with Stripe. Against "
        "localstripe (STRIPE_API_BASE on a loopback address) also register --webhook-url with "
        "STRIPE_WEBHOOK_SECRET. Against real Stripe, add the webhook in the Stripe dashboard instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--webhook-url", default="", help="e.g. http://127.0.0.1:8000/billing/stripe/webhook/")

    def handle(self, *args, webhook_url, **options):
        try:
            plan = services.plan_ensure_default()
        except gateway.GatewayError as exc:
            where = settings.STRIPE_API_BASE or "api.stripe.com"
            raise CommandError(f"Could not reach Stripe at {where}: {exc}") from exc
        self.stdout.write(f"Plan: {plan} → {plan.stripe_price_id}")
        if webhook_url:
            if not settings.STRIPE_WEBHOOK_SECRET:
                raise CommandError("Set STRIPE_WEBHOOK_SECRET first.")
            try:
                gateway.current().webhook_register(url=webhook_url, secret=settings.STRIPE_WEBHOOK_SECRET)
            except gateway.GatewayError as exc:
                raise CommandError(f"--webhook-url is for localstripe: {exc}") from exc
            self.stdout.write(f"Webhook: {webhook_url}")
