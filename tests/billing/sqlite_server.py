"""The server process of test_sqlite_webhooks, in one start-up: migrate a fresh SQLite file, add the
learners (Stripe customers cus_sq0 ...), then serve with `runserver` as `make run` does.

    DJANGO_SETTINGS_MODULE=tests.billing.sqlite_server_settings DATABASE_URL=sqlite:///... \\
        python -m tests.billing.sqlite_server PORT LEARNERS
"""

import sys

import django
from django.core.management import call_command


def main(port: str, learners: str) -> None:
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from accounts.models import User
    from billing.models import Customer

    for i in range(int(learners)):
        user = User.objects.create_user(email=f"sq{i}@example.com", password="not-used")
        Customer.objects.create(user=user, stripe_customer_id=f"cus_sq{i}")
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, skip_checks=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
