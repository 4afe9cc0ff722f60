"""Build the grading sandbox image from Debian packages (no registry); a no-op when its tag exists."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from grading import sandbox


class Command(BaseCommand):
    help = (
        "Build the sandbox image from platform/sandbox (Debian packages via mmdebstrap, no registry). "
        "The tag is a hash of the recipe, so it is rebuilt only when the recipe changes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rebuild even if the tag exists.")

    def handle(self, *args, force: bool, **options):
        try:
            tag = sandbox.ensure_image(settings.SANDBOX_RECIPE_DIR, force=force)
        except sandbox.InfrastructureError as exc:
            raise CommandError(f"Could not build the sandbox image: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Sandbox image ready: {tag}"))
