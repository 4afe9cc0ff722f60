"""Remove sandbox containers left behind (what the periodic Celery task does)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from grading import sandbox


class Command(BaseCommand):
    help = "Remove labelled sandbox containers older than --older-than seconds (default: the setting)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=settings.SANDBOX_REAP_AFTER_SECONDS)

    def handle(self, *args, older_than: int, **options):
        removed = sandbox.reap_stale_containers(None, older_than_s=older_than)
        self.stdout.write(f"Removed {removed} container(s).")
