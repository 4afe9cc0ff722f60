"""Playwright fixtures: Debian's Chromium, headless, against pytest-django's live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by test code
# around it are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make browser` (as root) before the browser tests.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request, transactional_db):
    # Depending on the database makes it outlive the page: the page closes (and its last progress
    # beacon lands) before the test database is flushed.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    # The content security policy (config/settings/base.py) must never refuse what the site itself loads.
    refused = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    # Keep a picture of where each browser test ended, to look at when one fails.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    page.goto("about:blank")
    page.wait_for_timeout(300)  # requests sent while leaving (keepalive progress) finish first
    context.close()
    assert not refused, f"the content security policy refused: {refused}"


@pytest.fixture
def demo_content(transactional_db, settings):
    """The demo pack imported, with the videos of the first course's first two lectures rendered."""
    from courses.models import Lecture
    from courses.packs import load_pack, pack_apply
    from tests.conftest import DEMO_PACK

    pack_apply(pack=load_pack(DEMO_PACK))
    for lecture in Lecture.objects.filter(item__course__order=1).order_by("item__week__number", "item__order")[:2]:
        from courses import media

        relative = f"lectures/e2e-{lecture.pk}.mp4"
        media.render_video(
            title=lecture.item.title, subtitle="e2e", cues=lecture.captions, out_path=settings.MEDIA_ROOT / relative
        )
        Lecture.objects.filter(pk=lecture.pk).update(video=relative)
