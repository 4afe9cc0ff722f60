"""Import a content pack folder: validate everything first, then create or update in place."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses import services
from courses.packs import PackError, load_pack, pack_apply, pack_plan


class Command(BaseCommand):
    help = (
        "Import a content pack (pack.yaml, courses/*/course.yaml, Markdown readings). Every error is "
        "reported with its file and line and nothing changes on error. Re-importing updates in place "
        "and keeps learner progress. Videos missing for lectures are rendered from their captions."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="The pack folder, e.g. content/demo")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and show what would change; write nothing."
        )
        parser.add_argument("--no-media", action="store_true", help="Do not render lecture videos now.")

    def handle(self, *args, directory: Path, dry_run: bool, no_media: bool, **options):
        try:
            pack = load_pack(directory)
        except PackError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"{len(exc.errors)} error(s); nothing was imported.") from exc
        self.stdout.write(
            f"{pack.title}: {len(pack.courses)} courses, {sum(len(c.weeks) for c in pack.courses)} weeks, "
            f"{pack.item_count()} items, {len(pack.interviews)} interviews — valid."
        )
        if dry_run:
            report = pack_plan(pack=pack)
            self.stdout.write(f"Dry run: would apply {report.summary()}; nothing was written.")
            for label in report.removed:
                self.stdout.write(f"  would remove {label}")
            return
        report = pack_apply(pack=pack)
        self.stdout.write(self.style.SUCCESS(f"Imported: {report.summary()}."))
        for label in report.removed:
            self.stdout.write(f"  removed {label}")
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"  duration: {warning}"))
        if not no_media:
            rendered = services.media_render_missing(progress=self._progress)
            self.stdout.write(f"Videos rendered: {rendered}.")
            # The media wins: each lecture's duration is the one probed from its video.
            for check in services.lecture_durations_sync():
                self.stdout.write(
                    self.style.WARNING(
                        f"  duration: {check.label}: the pack says {check.declared:.2f} s, the video lasts "
                        f"{check.probed:.2f} s: the video's duration is used"
                    )
                )

    def _progress(self, index: int, total: int, title: str) -> None:
        self.stdout.write(f"  rendering video {index}/{total}: {title}")
