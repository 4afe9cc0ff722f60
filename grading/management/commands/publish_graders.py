"""Self-check and publish draft grader versions (after a pack import, or after editing a grader)."""

from django.core.management.base import BaseCommand, CommandError

from grading import sandbox, services
from grading.models import GraderVersion


class Command(BaseCommand):
    help = (
        "Run the self-check of every assignment's newest draft grader version in the sandbox (the reference "
        "solution must score full marks, the starter must not) and publish those that pass."
    )

    def add_arguments(self, parser):
        parser.add_argument("--assignment", help="Only this assignment (item slug).")

    def handle(self, *args, assignment: str | None, **options):
        drafts = GraderVersion.objects.exclude(status=GraderVersion.Status.PUBLISHED).select_related("assignment__item")
        if assignment:
            drafts = drafts.filter(assignment__item__slug=assignment)
        newest = {}
        for version in drafts.order_by("assignment_id", "-number"):
            newest.setdefault(version.assignment_id, version)
        failed = 0
        for version in newest.values():
            current = version.assignment.current_version
            if current and current.number > version.number:
                continue
            label = f"{version.assignment.item.course.slug}/{version.assignment.slug} v{version.number}"
            try:
                services.grader_version_publish(version=version)
            except services.PublishError as exc:
                failed += 1
                self.stderr.write(f"{label}: {exc}")
            except sandbox.InfrastructureError as exc:
                raise CommandError(f"The sandbox is not available: {exc}") from exc
            else:
                self.stdout.write(self.style.SUCCESS(f"{label}: self-check passed, published."))
        if not newest:
            self.stdout.write("Every grader is published.")
        if failed:
            raise CommandError(f"{failed} grader version(s) failed their self-check.")
