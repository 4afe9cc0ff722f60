from django.core.management.base import BaseCommand

from peer_review import services


class Command(BaseCommand):
    help = (
        "Run the peer-review sweep now: expire 8-hour leases, lower the reviews needed by work waiting "
        "too long (or send it to the staff queue), re-measure median vs calibrated scoring against staff "
        "spot checks, send review reminders and staff alerts. Safe to run at any time (beat runs it too)."
    )

    def handle(self, *args, **options):
        totals = services.sweep()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in totals.items()))
