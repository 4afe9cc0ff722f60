"""List every lecture whose stored duration differs from its video file (CI runs it on the demo pack)."""

from django.core.management.base import BaseCommand, CommandError

from courses import services


class Command(BaseCommand):
    help = (
        "Probe every lecture's video file and list the lectures whose stored duration differs from the "
        "file's (completion counts against the stored one), and those whose pack-declared duration (the "
        "last caption's end) is more than 2 % off. Exits with an error when a stored duration is wrong; "
        "`--fix` stores the probed durations instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Store the durations probed from the files.")

    def handle(self, *args, fix: bool, **options):
        checks = services.lecture_durations_check()
        wrong = [check for check in checks if check.stored_differs]
        for check in checks:
            if check.stored_differs or check.declared_differs:
                self.stdout.write(
                    f"{check.label}: stored {check.stored:.2f} s, file {check.probed:.2f} s, "
                    f"pack declares {check.declared:.2f} s"
                )
        if fix and wrong:
            services.lecture_durations_sync()
            self.stdout.write(self.style.SUCCESS(f"Stored the file's duration for {len(wrong)} lecture(s)."))
            return
        self.stdout.write(f"{len(checks)} lecture video(s) probed; {len(wrong)} stored duration(s) differ.")
        if wrong:
            raise CommandError(f"{len(wrong)} lecture(s) store a duration their video does not have (run with --fix).")
