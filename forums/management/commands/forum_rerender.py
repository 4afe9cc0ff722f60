"""Render every forum post's Markdown again (after a change to the renderer or its sanitiser)."""

from django.core.management.base import BaseCommand

from forums import services


class Command(BaseCommand):
    help = (
        "Render the stored Markdown of every forum post to HTML again, with the current renderer and sanitiser "
        "(posts store their HTML beside the source). Safe to run again; --course limits it to one course's forum."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", help="a course slug: only that course's forum")

    def handle(self, *args, course=None, **options):
        changed, total = services.posts_rerender(course_slug=course)
        self.stdout.write(f"Posts rendered again: {changed} changed of {total}.")
