from django.core.management.base import BaseCommand

from notifications import services


class Command(BaseCommand):
    help = (
        "Send every due e-mail in the notifications outbox now: what the every-minute beat task "
        "(notifications.tasks.deliver_pending) does. Safe to run beside workers: rows are claimed with SKIP LOCKED. "
        "Failed rows stay failed; retry them from the admin "
        "(E-mail outbox, action 'Retry the selected failed e-mails')."
    )

    def handle(self, *args, **options):
        report = services.outbox_deliver_due()
        self.stdout.write(
            f"sent {report.sent}, retrying later {report.retrying}, failed {report.failed}, "
            f"cancelled {report.cancelled}, handed back {report.released}, lost lease {report.lost}"
        )
