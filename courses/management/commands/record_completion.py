"""Record that a learner completed a course, as passing its graded items would (operators: a completion
carried over from elsewhere; demos: the README's billing walk)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from courses.models import Course
from courses.services import course_completion_record


class Command(BaseCommand):
    help = (
        "Record that a learner completed a course (once; running it again changes nothing). "
        "Example: manage.py record_completion learner@example.com neural-networks-and-deep-learning"
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The learner's e-mail address.")
        parser.add_argument("course", help="The course's slug (as in its URL, /courses/<slug>/).")
        parser.add_argument("--dry-run", action="store_true", help="Check the learner and course; record nothing.")

    def handle(self, *args, email, course, dry_run, **options):
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account with the e-mail address {email!r}. Nothing was recorded.")
        found = Course.objects.filter(slug=course).first()
        if found is None:
            slugs = ", ".join(Course.objects.order_by("order").values_list("slug", flat=True)) or "none imported"
            raise CommandError(f"No course {course!r}. Courses: {slugs}. Nothing was recorded.")
        if dry_run:
            self.stdout.write(f"Would record: {user.email} completed {found.title}.")
            return
        completion = course_completion_record(user=user, course=found)
        self.stdout.write(f"{user.email} completed {found.title} (recorded {completion.completed_at:%Y-%m-%d %H:%M}).")
