"""The in-browser notebook editor (grading/frontend/editor.js, bundled by `make assets`), at phone and
desktop width: whole cells that grow as the learner types, Python highlighted, an unsaved draft kept in
the browser across reloads (with a notice and a way to discard it), a warning before leaving unsaved
changes, the draft gone once the server has the submission; and plain text areas without JavaScript."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.page_checks import axe_findings, horizontal_overflow, wait_until
from tests.factories import SubscriptionFactory
from tests.grading.conftest import make_assignment, notebook

pytestmark = pytest.mark.e2e

BUNDLE = Path(__file__).resolve().parents[2] / "static" / "js" / "editor.bundle.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SOLUTION = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"


@pytest.fixture
def editor_world(transactional_db, monkeypatch):
    """A subscriber, a published assignment with a markdown heading, a locked cell and an editable one;
    submissions are kept but not queued for grading (the grading journey covers that)."""
    if not BUNDLE.is_file():
        pytest.fail("The editor bundle is missing: run `make assets` (esbuild from package-lock.json).")
    monkeypatch.setattr("grading.services._enqueue", lambda submission_id: None)
    starter = notebook(
        "#md # Sigmoid\nImplement `sigmoid`.\n\n## Your code",
        "import numpy as np",
        "def sigmoid(z):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "",
        locked=(1,),
    )
    assignment = make_assignment(starter=starter)
    learner = SubscriptionFactory(user__email="editor@example.com").user
    return learner, assignment


def _log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.locator("input[name=password]").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Successfully signed in")).to_be_visible()


def _editor_url(live_server, assignment):
    return f"{live_server.url}/grading/assignments/{assignment.item.pk}/editor/"


def _draft(page, learner, assignment):
    key = f"mooc:editor-draft:{learner.pk}:{assignment.pk}"
    stored = page.evaluate("key => window.localStorage.getItem(key)", key)
    return json.loads(stored) if stored else None


def _wait_for_draft(page, learner, assignment, text):
    key = f"mooc:editor-draft:{learner.pk}:{assignment.pk}"
    needle = json.dumps(text)[1:-1]
    wait_until(page, f"(window.localStorage.getItem({json.dumps(key)}) || '').includes({json.dumps(needle)})")


def _cell(page, name):
    return page.locator(f".cm-content[data-cell='{name}']")


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_typing_grows_the_cell_and_a_reload_restores_the_draft(page, live_server, editor_world, width):
    learner, assignment = editor_world
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    _log_in(page, live_server, learner)
    page.goto(_editor_url(live_server, assignment))

    # Whole cells, in order: the notebook's heading sits under the page's, the locked cell is shown, not edited.
    expect(page.get_by_role("heading", name="Work in the browser", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Sigmoid", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="Your code", level=3)).to_be_visible()
    expect(page.locator(".nb-code", has_text="import numpy as np")).to_contain_text("read-only")
    expect(page.locator("textarea[name='cell-1']")).to_have_count(0)
    cell = _cell(page, "cell-2")
    expect(cell).to_have_accessible_name("Code cell 3")
    expect(cell).to_contain_text("raise NotImplementedError()")
    expect(page.locator("textarea[name='cell-2']")).to_be_hidden()  # kept in the form, carries the code
    # Python is highlighted: the keyword `def` in its own colour, the comment in another.
    keyword = cell.locator("span", has_text=re.compile(r"^def$"))
    expect(keyword).to_have_css("color", "rgb(255, 123, 114)")
    expect(cell.locator("span", has_text="# YOUR CODE HERE")).to_have_css("color", "rgb(139, 148, 158)")

    # Typing grows the cell: every line stays in view, the editor never scrolls inside itself.
    editor = page.locator(".code-editor").filter(has=cell)
    before = editor.bounding_box()["height"]
    cell.click()
    page.keyboard.press("Control+End")
    for number in range(6):
        page.keyboard.press("Enter")
        page.keyboard.type(f"step_{number} = {number}")
    expect(cell).to_contain_text("step_5 = 5")
    after = editor.bounding_box()["height"]
    line = cell.locator(".cm-line").first.bounding_box()["height"]
    assert after - before >= 6 * line - 1, (before, after, line)
    scroller = editor.locator(".cm-scroller")
    assert scroller.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    # A long line: wrapped on a phone, room enough on a desktop; either way nothing hides sideways.
    page.keyboard.press("Enter")
    page.keyboard.type("total = step_0 + step_1 + step_2 + step_3 + step_4 + step_5  # the sum of every step")
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    assert scroller.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    assert not horizontal_overflow(page)
    _shot(page, f"editor-typing-{width}")

    # The draft is kept in this browser; a reload asks first (unsaved changes) and then puts it back.
    _wait_for_draft(page, learner, assignment, "step_5 = 5")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.reload()
    assert dialogs == ["beforeunload"]
    notice = page.get_by_role("status").filter(has_text="Restored your unsaved draft")
    expect(notice).to_be_visible()
    expect(_cell(page, "cell-2")).to_contain_text("step_5 = 5")
    assert "step_5 = 5" in page.locator("textarea[name='cell-2']").input_value()
    assert not horizontal_overflow(page)
    assert axe_findings(page) == []
    _shot(page, f"editor-draft-restored-{width}")

    # Discarding puts the latest submitted code (here the starter) back and forgets the draft.
    notice.get_by_role("button", name="Discard draft").click()
    expect(page.get_by_text("Draft discarded")).to_be_visible()
    expect(_cell(page, "cell-2")).not_to_contain_text("step_5")
    expect(_cell(page, "cell-2")).to_contain_text("raise NotImplementedError()")
    assert _draft(page, learner, assignment) is None
    page.reload()
    expect(_cell(page, "cell-2")).to_contain_text("raise NotImplementedError()")
    expect(page.get_by_text("Restored your unsaved draft")).to_have_count(0)
    assert dialogs == ["beforeunload"]  # nothing unsaved, nothing asked


@pytest.mark.parametrize("width", WIDTHS)
def test_leaving_warns_and_submitting_saves_and_clears_the_draft(page, live_server, editor_world, width):
    from grading.models import Submission
    from grading.notebooks import notebook_load

    learner, assignment = editor_world
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    _log_in(page, live_server, learner)
    page.goto(_editor_url(live_server, assignment))
    cell = _cell(page, "cell-2")
    cell.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(SOLUTION)
    expect(cell).to_contain_text("return 1 / (1 + np.exp(-z))")
    _wait_for_draft(page, learner, assignment, "np.exp(-z)")

    # Leaving by a link asks first; staying keeps the page and the code.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Sigmoid").first.click()
    page.wait_for_timeout(500)  # the dismissed prompt leaves the page where it was
    assert dialogs == ["beforeunload"]
    assert page.url.endswith("/editor/")
    expect(cell).to_contain_text("np.exp(-z)")

    # Submitting does not ask, saves the code, and the saved draft is gone from the browser.
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.get_by_role("button", name="Submit this notebook").click()
    expect(page.get_by_role("heading", name="Attempt 1")).to_be_visible()
    assert dialogs == ["beforeunload"]
    assert _draft(page, learner, assignment) is None
    submission = Submission.objects.get(learner=learner, assignment=assignment)
    cells = notebook_load(submission.notebook_path)["cells"]
    assert cells[2]["source"] == SOLUTION
    assert cells[1]["source"] == "import numpy as np"  # the locked cell as released
    _shot(page, f"editor-submitted-{width}")

    # Back in the editor: the latest attempt, no draft notice, nothing to warn about.
    page.goto(_editor_url(live_server, assignment))
    expect(_cell(page, "cell-2")).to_contain_text("np.exp(-z)")
    expect(page.get_by_text("Restored your unsaved draft")).to_have_count(0)
    page.get_by_role("link", name="Sigmoid").first.click()
    expect(page.get_by_role("heading", name="Sigmoid", level=1)).to_be_visible()
    assert dialogs == ["beforeunload"]


def test_a_draft_survives_until_the_server_has_it(page, live_server, editor_world):
    """A draft is only dropped once the submission page confirms it: opening an older submission, or the
    editor in another visit, keeps it."""
    learner, assignment = editor_world
    _log_in(page, live_server, learner)
    page.goto(_editor_url(live_server, assignment))
    _cell(page, "cell-2").click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("kept = True")
    _wait_for_draft(page, learner, assignment, "kept = True")
    # The keyboard is not trapped: Tab goes on to the next cell, then to the submit button.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.cell") == "cell-3"
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Submit this notebook")).to_be_focused()
    assert page.locator("textarea[name='cell-2']").input_value().endswith("kept = True")  # Tab typed nothing
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_server.url + "/progress/")
    assert "kept = True" in _draft(page, learner, assignment)["cells"]["cell-2"]
    page.goto(_editor_url(live_server, assignment))
    expect(page.get_by_role("status").filter(has_text="Restored your unsaved draft")).to_be_visible()
    expect(_cell(page, "cell-2")).to_contain_text("kept = True")


def test_without_javascript_the_cells_are_plain_text_areas_that_submit(browser, live_server, editor_world):
    from grading.models import Submission
    from grading.notebooks import notebook_load

    learner, assignment = editor_world
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        _log_in(page, live_server, learner)
        page.goto(_editor_url(live_server, assignment))
        area = page.get_by_label("Code cell 3")
        expect(area).to_be_visible()
        assert area.evaluate("el => el.scrollHeight <= el.clientHeight + 1")  # the whole cell, no inner scroll
        expect(page.locator(".cm-editor")).to_have_count(0)
        assert not horizontal_overflow(page)
        _shot(page, "editor-no-javascript-phone")
        area.fill(SOLUTION)
        page.get_by_role("button", name="Submit this notebook").click()
        expect(page.get_by_role("heading", name="Attempt 1")).to_be_visible()
        submission = Submission.objects.get(learner=learner, assignment=assignment)
        assert notebook_load(submission.notebook_path)["cells"][2]["source"] == SOLUTION
    finally:
        context.close()
