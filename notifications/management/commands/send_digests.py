from django.core.management.base import BaseCommand

from notifications import services


class Command(BaseCommand):
    help = (
        "Queue today's daily digest e-mails: what the daily beat task (notifications.tasks.send_digests) does. "
        "Each user gets at most one digest a day, so running it again (or beside the task) sends nothing twice. "
        "The e-mails go out through the outbox: run deliver_outbox, or let the workers send them."
    )

    def handle(self, *args, **options):
        count = services.digests_send()
        self.stdout.write(f"{count} digest(s) queued")
