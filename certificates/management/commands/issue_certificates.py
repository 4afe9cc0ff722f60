"""Issue any certificates that recorded completions are still missing (idempotent)."""

from django.core.management.base import BaseCommand

from certificates import services


class Command(BaseCommand):
    help = (
        "Issue the course and specialization certificates of completions that have none yet, for example "
        "after the Celery worker was down when a learner finished. Running it again issues nothing twice."
    )

    def handle(self, *args, **options):
        issued = services.certificates_issue_missing()
        for certificate in issued:
            self.stdout.write(f"issued {certificate.public_id}: {certificate.learner_name} · {certificate.title}")
        self.stdout.write(self.style.SUCCESS(f"{len(issued)} certificate(s) issued."))
