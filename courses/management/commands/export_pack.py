"""Export a specialization back to the content pack format."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses.models import Specialization
from courses.packs import pack_export


class Command(BaseCommand):
    help = "Write a specialization (courses, weeks, items, interviews) to a folder in the content pack format."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Output folder (created; must be empty or absent).")
        parser.add_argument("--specialization", help="Slug of the specialization (default: the only one).")

    def handle(self, *args, directory: Path, specialization: str | None, **options):
        queryset = Specialization.objects.all()
        if specialization:
            queryset = queryset.filter(slug=specialization)
        spec = queryset.order_by("id").first()
        if spec is None:
            raise CommandError("No such specialization. Import a pack first.")
        if directory.exists() and any(directory.iterdir()):
            raise CommandError(f"{directory} is not empty; choose a new folder.")
        pack = pack_export(specialization=spec, out=directory)
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {len(pack.courses)} courses and {len(pack.interviews)} interviews to {directory}."
            )
        )
