"""A learner submits the demo case study, passes the training step, reviews three peers with the rubric,
sees the released grade with feedback per criterion, disputes it, and staff resolve the dispute."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

CASE_STUDY = "/courses/structuring-machine-learning-projects/case-study-write-up/"


def log_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text(f"Successfully signed in as {email}.")).to_be_visible()


def shoot(page, name: str) -> None:
    """The page at desktop and at phone width (both looked at when the page was built)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"peer-{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / f"peer-{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def choose(page, scores: dict[str, int]) -> None:
    for name, points in scores.items():
        page.locator(f'input[name="score-{name}"][value="{points}"]').check()


def test_submit_train_review_three_get_a_grade_dispute_and_staff_resolve(
    browser, page, live_server, demo_content, celery_eager
):
    from peer_review import selectors, services
    from peer_review.models import Assignment, Submission
    from tests.factories import SubscriptionFactory, UserFactory
    from tests.peer_review import world

    assignment = Assignment.objects.get(item__slug="case-study-write-up")
    examples = selectors.training_examples(assignment=assignment)
    peers = [SubscriptionFactory(user__name=f"Peer Author {n}").user for n in range(3)]
    for n, peer in enumerate(peers):
        services.submission_submit(
            author=peer, assignment=assignment, text=f"## Plan {n}\n\nRecall at 95 %, dev set from the cameras."
        )
    learner = SubscriptionFactory(user__email="peer@example.com").user
    staff = UserFactory(email="staff@example.com", is_staff=True)

    log_in(page, live_server, learner.email)
    page.goto(live_server.url + CASE_STUDY)
    expect(page.get_by_role("heading", name="Submit your work")).to_be_visible()
    expect(page.locator("[data-peer-phase]")).to_have_text("Not submitted")
    page.get_by_label("Your answer (Markdown)").fill(
        "**Metric**: recall at 95 % with precision above 90 %.\n\nDev and test from the sorting-centre cameras."
    )
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Your work is submitted.")).to_be_visible()
    shoot(page, "item-submitted")

    page.get_by_role("link", name="Start the training step").click()
    first = examples[0]
    choose(page, {**first.staff_scores, "metric": 0, "iterations": 0})  # too harsh: 40 points below staff
    shoot(page, "training")
    page.get_by_role("button", name="Check my scores").click()
    expect(page.get_by_text(re.compile(r"points below the staff score"))).to_be_visible()
    expect(page.get_by_text("Example 1 of 2")).to_be_visible()  # retry: within 20 points passes
    choose(page, first.staff_scores)
    page.get_by_role("button", name="Check my scores").click()
    expect(page.get_by_text("Your score matched staff exactly. Example passed.")).to_be_visible()
    choose(page, examples[1].staff_scores)
    page.get_by_role("button", name="Check my scores").click()
    expect(page.get_by_text("Training complete.")).to_be_visible()
    page.get_by_role("link", name="Back to the assignment").click()

    for n in range(3):
        page.get_by_role("button", name="Review a peer").click()
        expect(page.get_by_role("heading", name="Review a peer's work")).to_be_visible()
        content = page.content()
        assert not any(peer.name in content or peer.email in content for peer in peers)  # anonymous
        if n == 0:
            shoot(page, "review")
        choose(page, {"metric": 4, "data": 2, "diagnosis": 2, "iterations": 4})
        page.get_by_label("Comment on data (optional)").fill("Say how big the dev set is.")
        page.get_by_role("button", name="Submit my review").click()
        expect(page.get_by_text("Thank you: your review is saved.")).to_be_visible()
    expect(page.locator("[data-given]")).to_have_text("3")
    expect(page.locator("[data-peer-phase]")).to_have_text("Waiting")

    mine = Submission.objects.get(author=learner)
    top = {c.name: c.max_points for c in selectors.rubric(assignment=assignment)}
    for n in range(3):  # three peer reviewers review the learner's work
        reviewer = UserFactory(is_peer_reviewer=True, name=f"Reviewer Name {n}")
        scores = {**top, "data": 2} if n else top
        world._take(reviewer, assignment, mine, scores, comments={"metric": "Clear metric."} if n == 0 else None)
    page.reload()
    grade = page.locator("[data-grade]")
    expect(grade).to_be_visible()
    expect(page.get_by_text("Clear metric.")).to_be_visible()
    assert "Reviewer Name" not in page.content()
    shoot(page, "item-graded")

    page.get_by_text("Dispute this grade").click()
    page.get_by_label(re.compile("Why do you think the grade is wrong")).fill(
        "My dev set size is in the second paragraph."
    )
    page.get_by_role("button", name="Send the dispute to staff").click()
    expect(page.get_by_text("Your dispute is with staff.")).to_be_visible()

    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    staff_page = staff_context.new_page()
    try:
        log_in(staff_page, live_server, staff.email)
        staff_page.goto(live_server.url + f"/peer-review/staff/{assignment.pk}/")
        expect(staff_page.get_by_text("My dev set size is in the second paragraph.")).to_be_visible()
        shoot(staff_page, "dashboard")
        staff_page.get_by_role("link", name=f"Submission {mine.pk}").first.click()
        staff_page.get_by_label("Answer to the learner").fill("Agreed: the dev set size is given.")
        staff_page.get_by_label(re.compile("New grade")).first.fill("100")
        staff_page.get_by_role("button", name="Resolve the dispute").click()
        expect(staff_page.get_by_text("Done; the audit trail below records it.")).to_be_visible()
        expect(staff_page.locator('[data-audit="override"]')).to_be_visible()
        shoot(staff_page, "staff-submission")
    finally:
        staff_context.close()

    page.reload()
    expect(page.locator("[data-grade]")).to_have_attribute("data-grade", "100.0")
    expect(page.get_by_text("Agreed: the dev set size is given.")).to_be_visible()
    expect(page.get_by_text("Set by staff")).to_be_visible()
    page.goto(live_server.url + "/peer-review/assigned/")
    expect(page.get_by_text("3 reviews done")).to_be_visible()
    shoot(page, "assigned")
