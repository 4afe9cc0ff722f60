"""Run the nightly reconciliation now: re-read from Stripe what lost webhooks may have left wrong."""

from django.core.management.base import BaseCommand

from billing import services


class Command(BaseCommand):
    help = (
        "Repair drift between our billing records and Stripe's (subscriptions, invoices, refunds, disputes) and "
        "queue webhook events still to process; the report is also kept in the admin."
    )

    def handle(self, *args, **options):
        run = services.billing_reconcile()
        self.stdout.write(f"Checked {run.checked}, repaired {run.repaired}.\n{run.report}")
