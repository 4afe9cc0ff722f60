"""Import an assignment from our pack format, an nbgrader source notebook or an Otter Assign notebook."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from courses import api as courses
from grading import importers, sandbox, services
from grading.models import Assignment
from grading.pack import ASSIGNMENT_SETTINGS


class Command(BaseCommand):
    help = (
        "Import an assignment: --format pack (a folder with assignment.yaml, starter.ipynb, solution.ipynb), "
        "nbgrader (a source notebook with solutions and hidden tests) or otter (an Otter Assign master notebook). "
        "Produces the starter notebook (solutions stripped), the reference solution and the tests as a new draft "
        "grader version; --publish runs the self-check in the sandbox and publishes it."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path)
        parser.add_argument("--format", required=True, choices=importers.FORMATS)
        parser.add_argument("--slug", help="The assignment's item slug (default: from the file or folder name).")
        parser.add_argument("--course", help="Course slug; needed to create a new assignment item.")
        parser.add_argument("--week", type=int, help="Week number for a new item (default: the last week).")
        parser.add_argument("--title", help="Title for a new item (default: the notebook's title).")
        parser.add_argument("--publish", action="store_true", help="Self-check in the sandbox and publish.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")

    def handle(self, *args, source: Path, format: str, slug, course, week, title, publish, dry_run, **options):
        try:
            bundle = importers.load_bundle(format, source)
            bundle.validate()
            settings = importers.load_settings(source) if format == "pack" else {}
        except importers.BundleError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # SpecError from validate(); keep the message
            raise CommandError(str(exc)) from exc
        slug = slug or slugify(source.stem if source.is_file() else source.name)
        auto = [t for t in bundle.tests if t.kind != "manual"]
        self.stdout.write(
            f"{source}: {len(bundle.starter.get('cells', []))} cells, {len(auto)} automatic tests "
            f"({sum(t.points for t in auto):g} points, {sum(t.visibility == 'hidden' for t in auto)} hidden), "
            f"{len(bundle.tests) - len(auto)} manual — valid."
        )
        if dry_run:
            return
        with transaction.atomic():
            try:
                item = courses.item_ensure(
                    kind=courses.ItemKind.ASSIGNMENT,
                    slug=slug,
                    title=title or bundle.title,
                    course_slug=course,
                    week_number=week,
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            fields = {key: value for key, value in settings.items() if key in ASSIGNMENT_SETTINGS}
            assignment, _ = Assignment.objects.update_or_create(
                item=item, defaults={"instructions": bundle.instructions, **fields}
            )
            try:
                version = services.grader_version_create(
                    assignment=assignment, bundle=bundle, notes=f"{format}: {source}"
                )
            except services.PublishError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{item.course.slug}/{item.slug}: grader version {version.number} ({version.get_status_display()})."
        )
        if publish:
            try:
                services.grader_version_publish(version=version)
            except services.PublishError as exc:
                raise CommandError(str(exc)) from exc
            except sandbox.InfrastructureError as exc:
                raise CommandError(f"The sandbox is not available for the self-check: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"Self-check passed; version {version.number} is published."))
