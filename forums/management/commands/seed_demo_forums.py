"""Load the demo pack's forum threads (content/demo/forums.yaml); safe to run again."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from forums import demo


class Command(BaseCommand):
    help = (
        "Give the demo courses' forums a few realistic threads (content/demo/forums.yaml): questions with "
        "answers, accepted and endorsed ones, code and math. Threads already there are skipped, so running it "
        "again changes nothing. The demo learner (learner@example.com) is made a trusted member, so their "
        "posts appear at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", default=str(Path(settings.BASE_DIR) / "content" / "demo" / "forums.yaml")
        )

    def handle(self, *args, path, **options):
        try:
            created, skipped = demo.seed(Path(path), trust_emails=("learner@example.com",))
        except demo.DemoError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Demo forum threads: {created} added, {skipped} already there.")
