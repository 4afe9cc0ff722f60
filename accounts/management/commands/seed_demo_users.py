"""Create the demo admin and demo learner (idempotent) and print their log-ins."""

from django.core.management.base import BaseCommand

from accounts.services import user_create_verified

DEMO_USERS = [
    ("admin@example.com", "admin-demo-pass", "Ada Admin", True),
    ("learner@example.com", "learner-demo-pass", "Lee Learner", False),
]


class Command(BaseCommand):
    help = "Create the demo admin and demo learner accounts (safe to run again) and print their log-ins."

    def handle(self, *args, **options):
        for email, password, name, is_staff in DEMO_USERS:
            user_create_verified(email=email, password=password, name=name, is_staff=is_staff)
            role = "admin" if is_staff else "learner"
            self.stdout.write(f"  demo {role:8} {email} / {password}")
