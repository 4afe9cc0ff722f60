"""`make run`'s plumbing: a busy port is refused with the command that serves elsewhere, and every e-mail
of the embedded default lands in the file the run script shows in the terminal."""

import socket
import subprocess
from pathlib import Path

import pytest
from django.core import mail

ROOT = Path(__file__).resolve().parent.parent


def test_a_busy_port_is_refused_with_the_command_to_serve_elsewhere():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            ["bash", "platform/scripts/run-dev.sh"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"Port {port} is already in use" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr


def test_dev_mail_goes_to_the_file_the_terminal_shows(settings, tmp_path):
    settings.EMAIL_BACKEND = "config.dev_mail.TerminalEmailBackend"
    settings.DEV_MAIL_LOG = str(tmp_path / "log" / "mail.log")
    sent = mail.send_mail("[Deep Learning] Your trial", "Seven days left.", None, ["ada@example.com"])
    assert sent == 1
    text = Path(settings.DEV_MAIL_LOG).read_text()
    assert "Subject: [Deep Learning] Your trial" in text and "Seven days left." in text


@pytest.mark.parametrize("port", ["8000", "8123"])
def test_make_run_links_follow_the_port(port):
    result = subprocess.run(["make", "-n", "run", f"PORT={port}"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert f"(http://127.0.0.1:{port}/admin/)" in result.stdout
    assert f"PORT={port} platform/scripts/run-dev.sh" in result.stdout
    database = subprocess.run(["make", "-pn", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert "run: SITE_URL = http://127.0.0.1:$(PORT)" in database  # exported to setup too: e-mail links follow
