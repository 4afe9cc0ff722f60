"""Run localstripe on 127.0.0.1 (for `make run`); see billing/localstripe_server.py."""

from django.core.management.base import BaseCommand

from billing import localstripe_server


class Command(BaseCommand):
    help = "Start localstripe, a Stripe-compatible fake, on a loopback address only. Never a real card."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8420)
        parser.add_argument("--state", default="var/localstripe.pickle", help="keep its data across restarts")

    def handle(self, *args, port, state, **options):
        localstripe_server.main(["--host", "127.0.0.1", "--port", str(port), "--state", state])
