"""Re-read every non-final subscription from Stripe now (the nightly Celery beat task does the same)."""

from django.core.management.base import BaseCommand

from billing import services


class Command(BaseCommand):
    help = "Repair drift between our subscriptions and Stripe's; the report is also kept in the admin."

    def handle(self, *args, **options):
        run = services.subscriptions_reconcile()
        self.stdout.write(f"Checked {run.checked}, repaired {run.repaired}.\n{run.report}")
