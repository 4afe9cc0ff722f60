"""`make run`'s e-mail: every message, whichever process sends it (the web server, or the Celery worker
that delivers queued e-mails), is appended to one file that run-dev.sh shows in the terminal."""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

_lock = threading.Lock()


class TerminalEmailBackend(ConsoleBackend):
    def send_messages(self, email_messages):
        path = Path(settings.DEV_MAIL_LOG)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _lock, path.open("a", encoding="utf-8") as stream:
            self.stream = stream
            try:
                return super().send_messages(email_messages)
            finally:
                self.stream = None
