from django.core.management.base import BaseCommand

from restapi import services


class Command(BaseCommand):
    help = (
        "Forget the stored first answers of idempotent POSTs whose Idempotency-Key expired "
        "(API_IDEMPOTENCY_TTL_HOURS, 24 by default). Celery beat does this every hour; run it by hand after a "
        "long outage of beat."
    )

    def handle(self, *args, **options):
        deleted = services.idempotency_purge_expired()
        self.stdout.write(f"Forgot {deleted} expired idempotency record{'s' if deleted != 1 else ''}.")
