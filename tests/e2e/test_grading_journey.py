"""A learner opens a programming assignment, uploads a notebook, watches it being graded live and reads
the feedback. Real path: the upload view → Celery worker on Redis → Docker sandbox → result saved."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.factories import SubscriptionFactory
from tests.grading.conftest import SIGMOID_SOLUTION, make_assignment, notebook

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker(settings, docker_engine, transactional_db, tmp_path):
    """A real Celery worker process on the test broker, grading against the test database."""
    from config.celery import app

    app.control.purge()  # messages left by other tests would point at rows that no longer exist
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "TEST_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "SUBMISSIONS_ROOT": str(settings.SUBMISSIONS_ROOT),
        "SANDBOX_WARM_POOL_SIZE": "1",
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "grading", "-c", "1", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


def _log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.locator("input[name=password]").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()


def test_upload_a_notebook_and_watch_it_graded_live(page, live_server, celery_worker, settings, tmp_path):
    assignment = make_assignment()
    learner = SubscriptionFactory(user__email="coder@example.com").user  # an active subscriber
    _log_in(page, live_server, learner)
    page.goto(live_server.url + assignment.item.get_absolute_url())
    expect(page.get_by_role("heading", name="Sigmoid", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Download notebook (.ipynb)")).to_be_visible()

    # A wrong file first: refused in place, with a clear message.
    bad = tmp_path / "notes.ipynb"
    bad.write_text("this is not a notebook")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and grade").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid JSON")

    # Then the real work.
    good = tmp_path / "sigmoid.ipynb"
    good.write_text(json.dumps(SIGMOID_SOLUTION))
    page.locator("input[type=file]").set_input_files(str(good))
    page.get_by_role("button", name="Upload and grade").click()
    expect(page.get_by_role("heading", name="Attempt 1")).to_be_visible()
    seen = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = page.locator("[data-status]").first.get_attribute("data-status")
        seen.add(status)
        if status in {"graded", "error"}:
            break
        page.wait_for_timeout(100)
    assert "graded" in seen, seen
    assert seen & {"queued", "running"}, f"the page should have shown progress before the result: {seen}"
    expect(page.locator(".score-big strong")).to_have_text("3")
    expect(page.get_by_text("Passed", exact=True)).to_be_visible()
    expect(page.locator(".test-name").filter(has_text="sigmoid_array")).to_contain_text("hidden")

    # A second attempt that fails a hidden test shows only its name; its hint opens on demand.
    wrong = tmp_path / "wrong.ipynb"
    wrong.write_text(
        json.dumps(notebook("import numpy as np", "def sigmoid(z):\n    return 0.5", keys={0: "cell-1", 1: "cell-2"}))
    )
    page.goto(live_server.url + assignment.item.get_absolute_url())
    page.locator("input[type=file]").set_input_files(str(wrong))
    page.get_by_role("button", name="Upload and grade").click()
    expect(page.locator("[data-status=graded]")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("This hidden test failed.").first).to_be_visible()
    page.get_by_role("button", name="Show a hint (1 of 1)").click()
    expect(page.get_by_text("Make sure sigmoid works on whole arrays.").first).to_be_visible()
    assert "0.8807" not in page.content()
    page.screenshot(path=str(ROOT / "test-artifacts" / "grading-feedback.png"), full_page=True)
    page.goto(live_server.url + assignment.item.get_absolute_url())
    expect(page.get_by_text("Best: 3 / 3")).to_be_visible()
    expect(page.locator(".attempts li")).to_have_count(2)
