"""Shared fixtures. Tests run on the real PostgreSQL and Redis (see config/settings/test.py)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests import factories

DEMO_PACK = Path(__file__).resolve().parent.parent / "content" / "demo"


@pytest.fixture(autouse=True, scope="session")
def _only_loopback_network():
    """Tests talk to this machine only (PostgreSQL, Redis, Docker, localstripe, the live server): a
    connection or a name lookup for anywhere else fails the test at once instead of leaving the host."""
    import ipaddress
    import socket

    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def local(host) -> bool:
        if host in ("localhost", "", None) or str(host).endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
        except ValueError:
            return False

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
            raise OSError(f"tests may only connect to this machine, not {address[0]}")
        return real_connect(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not local(host):
            raise socket.gaierror(f"tests may only look up this machine, not {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect
    socket.getaddrinfo = guarded_getaddrinfo
    yield
    socket.socket.connect, socket.getaddrinfo = real_connect, real_getaddrinfo


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test writes media to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate limits live in the (Redis) cache; a test must not inherit another's counters.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def user(db):
    return factories.UserFactory()


@pytest.fixture
def staff(db):
    return factories.UserFactory(is_staff=True)


@pytest.fixture
def demo_pack_copy(tmp_path):
    """A writable copy of the demo pack, for tests that break it on purpose."""
    target = tmp_path / "pack"
    shutil.copytree(DEMO_PACK, target)
    return target


# ---- billing: a real Stripe-compatible server (localstripe) on 127.0.0.1, one per test worker ----


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_server():
    """localstripe bound to 127.0.0.1 on a free port, stopped (by its own process handle) at the end."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "billing.localstripe_server", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{base}/js.stripe.com/v3/", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("localstripe did not start")
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_local(settings, localstripe_server, db):
    """Point the Stripe SDK at localstripe with a fresh store, a webhook secret, and the $49 plan synced.
    Webhooks localstripe sends go nowhere unless a test registers a URL (see tests/billing/helpers.py)."""
    import secrets
    import urllib.request

    from billing import gateway, services

    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)
    request = urllib.request.Request(f"{localstripe_server}/_config/data", method="DELETE")
    urllib.request.urlopen(request, timeout=5).read()
    gateway.current().webhook_register(url="http://127.0.0.1:9/discard", secret=settings.STRIPE_WEBHOOK_SECRET)
    return services.plan_ensure_default()


@pytest.fixture
def celery_eager():
    """Celery tasks run in-process, for real, when they are sent (no worker needed)."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    yield app
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _submissions_root(settings, tmp_path):
    settings.SUBMISSIONS_ROOT = tmp_path / "submissions"


@pytest.fixture(scope="session")
def docker_engine():
    """The real engine (make test starts it). Tests that need it fail loudly when it is missing."""
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail("No Docker engine: run `make engine` (as root) before the sandbox tests.")
    from django.conf import settings

    from grading import sandbox

    return sandbox.ensure_image(settings.SANDBOX_RECIPE_DIR)


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks, celery_eager):
    """`with after_commit(): ...` runs what the block queues for after its commit (on_commit callbacks,
    and the Celery tasks they send, in-process): the consequences of a grade or a completion."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
