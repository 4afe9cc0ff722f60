"""A learner takes a demo quiz, fails, reads the explanations, retries and passes; in-video questions
pause a lecture, are answered in place and playback resumes."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.page_checks import wait_until

pytestmark = pytest.mark.e2e

QUIZ = "/courses/neural-networks-and-deep-learning/week-1-quiz/"


def log_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text(f"Successfully signed in as {email}.")).to_be_visible()


def answer_all(page, attempt, *, right: bool) -> None:
    """Fill the attempt form the way a learner would; the test knows the answers from the database."""
    for row in attempt.questions.select_related("question").prefetch_related("question__options").order_by("position"):
        question = row.question
        fieldset = page.locator(f"#question-{row.position}")
        if question.kind in ("single", "multiple"):
            chosen = [o for o in question.options.all() if o.is_correct == right]
            for option in chosen[: 1 if question.kind == "single" else None]:
                fieldset.locator(f'input[value="{option.pk}"]').check()
        else:
            fieldset.get_by_role("textbox").fill(question.text_answers[0] if right else "perceptron")


def test_take_a_quiz_fail_retry_and_pass(page, live_server, demo_content, celery_eager):
    # celery_eager: the task that marks the quiz complete after its commit runs in the server thread, as a
    # worker would run it moments later under `make run`.
    from quizzes.models import Attempt
    from tests.factories import SubscriptionFactory

    learner = SubscriptionFactory(user__email="quiz@example.com").user
    log_in(page, live_server, learner.email)
    page.goto(live_server.url + QUIZ)
    expect(page.get_by_role("heading", name="Introduction to Deep Learning")).to_be_visible()
    expect(page.locator("[data-quiz-status]")).to_have_text("Not attempted")
    page.get_by_role("button", name="Start the quiz").click()

    expect(page.get_by_role("button", name="Submit answers")).to_be_visible()
    assert "explanation" not in page.content().lower()  # nothing about the answers before submitting
    answer_all(page, Attempt.objects.get(user=learner), right=False)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", name="Not passed this time")).to_be_visible()
    expect(page.locator(".question-review.is-wrong")).to_have_count(4)
    expect(page.get_by_text("Explanation").first).to_be_visible()
    page.screenshot(path="test-artifacts/quiz-review-failed.png", full_page=True)

    page.get_by_role("link", name="Back to the quiz to retry").click()
    expect(page.locator("[data-quiz-status]")).to_have_text("Not passed yet")
    expect(page.get_by_text("2 attempts left in this window")).to_be_visible()
    page.get_by_role("button", name="Retake the quiz").click()
    answer_all(page, Attempt.objects.get(user=learner, number=2), right=True)
    page.evaluate("window.scrollTo(0, 0)")  # so the sticky header is drawn at the top of the picture
    page.screenshot(path="test-artifacts/quiz-attempt.png", full_page=True)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", name="You passed")).to_be_visible()
    expect(page.locator(".result-score")).to_have_text("100 %")

    page.get_by_role("link", name="Back to the quiz").click()
    expect(page.locator("[data-quiz-status]")).to_have_text("✓ Passed")
    expect(page.locator(".attempts-table tbody tr")).to_have_count(2)
    page.screenshot(path="test-artifacts/quiz-overview-passed.png", full_page=True)
    page.get_by_role("link", name="Neural Networks and Deep Learning").first.click()
    quiz_row = page.locator(".item-row", has_text="Introduction to Deep Learning").last
    expect(quiz_row).to_have_class(re.compile("status-complete"))


@pytest.mark.parametrize("width", [1280, 390])
def test_in_video_question_pauses_the_lecture_and_explains(page, live_server, demo_content, settings, width):
    from courses import media
    from courses.models import Lecture
    from tests.factories import SubscriptionFactory

    lecture = Lecture.objects.get(item__slug="activation-functions")
    relative = f"lectures/e2e-{lecture.pk}.mp4"
    media.render_video(
        title="Activation functions", subtitle="e2e", cues=lecture.captions, out_path=settings.MEDIA_ROOT / relative
    )
    Lecture.objects.filter(pk=lecture.pk).update(video=relative)
    learner = SubscriptionFactory(user__email="video@example.com").user
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page, live_server, learner.email)
    page.goto(live_server.url + "/courses/neural-networks-and-deep-learning/activation-functions/")

    page.get_by_label("Playback speed").select_option("2")
    page.locator("video").evaluate("v => v.play()")
    overlay = page.locator("[data-in-video]")
    expect(overlay).to_be_visible(timeout=15_000)
    assert page.locator("video").evaluate("v => v.paused")
    expect(overlay).to_contain_text("What is the range of")
    overlay.locator("label.option").nth(0).click()  # options are in pack order; the first is right
    overlay.get_by_role("button", name="Check").click()
    expect(overlay.locator(".verdict")).to_have_text("✓ Correct")
    expect(overlay.locator(".explanation")).to_contain_text("shifted, rescaled sigmoid")
    page.screenshot(path=f"test-artifacts/in-video-question-{width}.png", full_page=True)
    # Every part of the card, its button included, is on the screen and can be pressed (on a phone too).
    resume = overlay.get_by_role("button", name="Continue the video")
    box = resume.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    card = overlay.locator(".in-video-card").bounding_box()
    assert card["x"] >= 0 and card["x"] + card["width"] <= width
    resume.click()
    expect(overlay).to_be_hidden()
    wait_until(page, "!document.querySelector('video').paused")

    # The second question can be skipped.
    expect(overlay).to_be_visible(timeout=15_000)
    expect(overlay).to_contain_text("max(0")
    overlay.get_by_role("button", name="Skip").click()
    expect(overlay).to_be_hidden()
    wait_until(page, "document.querySelector('video').ended", timeout=20_000)
    expect(page.locator("[data-status]")).to_have_text("✓ Completed", timeout=10_000)
    # Leave the player before the test ends, so no progress beacon races the database flush.
    page.goto(live_server.url + "/courses/neural-networks-and-deep-learning/")
    expect(page.get_by_role("heading", name="Syllabus")).to_be_visible()


def test_blank_answers_are_flagged_and_can_be_submitted_anyway(page, live_server, demo_content):
    from quizzes.models import Attempt
    from tests.factories import SubscriptionFactory

    learner = SubscriptionFactory(user__email="blanks@example.com").user
    log_in(page, live_server, learner.email)
    page.goto(live_server.url + QUIZ)
    page.get_by_role("button", name="Start the quiz").click()
    attempt = Attempt.objects.get(user=learner)
    rows = list(attempt.questions.select_related("question").prefetch_related("question__options").order_by("position"))
    first = next(row for row in rows if row.question.kind == "single")  # questions are shuffled
    right = next(o for o in first.question.options.all() if o.is_correct)
    page.locator(f"#question-{first.position} input[value='{right.pk}']").check()

    # Submitting with blanks does not use the attempt: the form comes back with the answer kept.
    page.get_by_role("button", name="Submit answers").click()
    blanks = len(rows) - 1
    expect(page.locator("[data-quiz-error]")).to_contain_text(f"You have not answered {blanks} questions.")
    expect(page.locator(f"#question-{first.position} input[value='{right.pk}']")).to_be_checked()
    expect(page.locator("fieldset.is-unanswered")).to_have_count(blanks)
    assert Attempt.objects.get(pk=attempt.pk).status == "in_progress"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="test-artifacts/quiz-unanswered.png", full_page=True)

    # The question text names each group of options for screen readers.
    opening = re.escape(" ".join(first.question.prompt.split()[:3]))
    name = re.compile(rf"^Question {first.position} .*{opening}")
    expect(page.get_by_role("group", name=name)).to_have_count(1)

    page.get_by_role("button", name="Submit anyway").click()
    expect(page.get_by_role("heading", name="Not passed this time")).to_be_visible()
    expect(page.locator(".question-review.is-correct")).to_have_count(1)
    expect(page.locator('[data-option-state="picked-correct"]')).to_have_count(1)
    expect(page.locator('[data-option-state="missed"]').first).to_contain_text("Correct answer · you missed it")
    page.screenshot(path="test-artifacts/quiz-review-missed.png", full_page=True)
