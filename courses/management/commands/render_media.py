"""Render lecture and interview videos from their captions (only those missing or changed)."""

from django.core.management.base import BaseCommand

from courses import services


class Command(BaseCommand):
    help = "Render demo videos for lectures and interviews whose captions changed or whose file is missing."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Render every video again.")

    def handle(self, *args, force: bool, **options):
        rendered = services.media_render_missing(
            force=force, progress=lambda i, n, title: self.stdout.write(f"  rendering video {i}/{n}: {title}")
        )
        self.stdout.write(self.style.SUCCESS(f"Videos rendered: {rendered}."))
        # The media wins: each lecture stores the duration probed from its video.
        for check in services.lecture_durations_sync():
            self.stdout.write(
                self.style.WARNING(
                    f"  duration: {check.label}: the pack says {check.declared:.2f} s, the video lasts "
                    f"{check.probed:.2f} s: the video's duration is used"
                )
            )
