"""Every learner page, at phone width (390 px) and desktop width (1280 px): nothing overflows the screen
sideways, and axe-core finds nothing serious or critical. A page added to the site belongs in PAGES."""

import datetime
import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.page_checks import axe_findings, horizontal_overflow

pytestmark = pytest.mark.e2e

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.fixture
def learner_world(transactional_db, demo_content):
    """A subscriber part-way through the first course: a passed quiz and one in progress, a graded
    notebook, a certificate; and the URLs of every page a learner can reach."""
    from courses.models import Interview, Item, ItemKind, Specialization
    from grading.models import Assignment, GraderVersion, GradingRun, Submission
    from grading.spec import locked_cell_hashes
    from quizzes import services as quiz_services
    from quizzes.models import Quiz
    from tests.factories import CertificateFactory, PlanFactory, SubscriptionFactory
    from tests.grading.conftest import SIGMOID_SOLUTION, SIGMOID_STARTER, SIGMOID_TESTS
    from tests.quizzes.conftest import answers_for

    PlanFactory()
    learner = SubscriptionFactory(user__email="phone@example.com", user__name="Grace Brewster Murray Hopper").user
    course_items = Item.objects.filter(course__order=1).order_by("week__number", "order")
    lecture = course_items.filter(kind=ItemKind.LECTURE).first()
    reading = course_items.filter(kind=ItemKind.READING).first()
    quiz = Quiz.objects.filter(item__course__order=1).order_by("item__week__number").first()
    submitted = quiz_services.attempt_start(user=learner, quiz=quiz)
    submitted = quiz_services.attempt_submit(
        user=learner, attempt_id=submitted.pk, answers=answers_for(submitted, right=False), confirm_unanswered=True
    )
    in_progress = quiz_services.attempt_start(user=learner, quiz=quiz)

    item = course_items.filter(kind=ItemKind.ASSIGNMENT).first()
    assignment, _ = Assignment.objects.get_or_create(item=item)
    version = GraderVersion.objects.create(
        assignment=assignment,
        number=99,
        status=GraderVersion.Status.PUBLISHED,
        starter=SIGMOID_STARTER,
        solution=SIGMOID_SOLUTION,
        tests=[t.to_dict() for t in SIGMOID_TESTS],
        locked_hashes=locked_cell_hashes(SIGMOID_STARTER),
        content_hash="every-page",
    )
    Assignment.objects.filter(pk=assignment.pk).update(current_version=version)
    now = datetime.datetime.now(tz=datetime.UTC)
    submission = Submission.objects.create(
        assignment=assignment, learner=learner, attempt=1, notebook_sha256="0" * 64, notebook_path="x.ipynb",
        size_bytes=1000, submitted_at=now, status=Submission.Status.GRADED, score=1, max_score=3,
    )  # fmt: skip
    run = GradingRun.objects.create(
        submission=submission, grader_version=version, status=GradingRun.Status.GRADED, score=1, max_score=3,
        started_at=now, finished_at=now, execution_seconds=1.2, image_tag="mooc-sandbox:test",
        tests=[
            {"name": "sigmoid of zero", "passed": True, "status": "passed", "points": 1, "max_points": 1,
             "message": "Passed.", "visibility": "public", "hint": "", "kind": "assert"},
            {"name": "sigmoid of a long vector of values that wraps on a phone", "passed": False, "status": "failed",
             "points": 0, "max_points": 2, "message": "expected array([0.5, 0.73105858, 0.88079708]), got "
             "array([0., 0., 0.]) with a long explanation that must wrap instead of widening the page",
             "visibility": "public", "hint": "Use np.exp.", "kind": "assert"},
        ],
        cells=[{"index": 1, "key": "c", "status": "ok", "outputs": [
            {"type": "stream", "text": "a_very_long_output_line_" * 20}], "duration_s": 0.1, "error": "",
            "replaced": False}],
    )  # fmt: skip
    Submission.objects.filter(pk=submission.pk).update(latest_run=run)
    certificate = CertificateFactory(user=learner, learner_name=learner.name)
    spec = Specialization.objects.get()
    interview = Interview.objects.first()
    from django.conf import settings as django_settings

    from forums import demo as forum_demo
    from forums.models import Thread

    forum_demo.seed(django_settings.BASE_DIR / "content" / "demo" / "forums.yaml")
    code_and_math = Thread.objects.get(title__startswith="propagate() fails")

    from peer_review import selectors as peer_selectors
    from peer_review.models import Assignment as PeerAssignment
    from tests.peer_review import world as peer_world

    peer = PeerAssignment.objects.get(item__slug="case-study-write-up")
    top = {c.name: c.max_points for c in peer_selectors.rubric(assignment=peer)}
    peer_state = peer_world.build(
        peer, learner, peers=[SubscriptionFactory().user for _ in range(4)], top_scores=top,
        comments={"metric": "A clear metric and a target: `recall >= 0.95` at 90 % precision."},
    )  # fmt: skip
    # The schedule: started the first course 16 days ago (behind: the banner with its reset on the home,
    # course and progress pages, deadlines on items); in the second course week 2 opens on a date to come
    # and week 3 ten days after the learner starts; a calendar address on the progress page.
    from courses import services as course_services
    from courses.models import Enrollment, Week

    enrollment, _ = Enrollment.objects.get_or_create(user=learner, course=lecture.course)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=now - datetime.timedelta(days=16))
    second = Item.objects.filter(course__order=2).select_related("course").first().course
    Week.objects.filter(course=second, number=2).update(release_date=datetime.date.today() + datetime.timedelta(days=5))
    Week.objects.filter(course=second, number=3).update(release_after_days=10)
    opens_later = Item.objects.filter(course=second, week__number=2).order_by("order").first()
    drip = Item.objects.filter(course=second, week__number=3).order_by("order").first()
    course_services.calendar_feed_get(user=learner)
    pages = {
        "home": "/",
        "catalog": "/courses/",
        "specialization": spec.get_absolute_url(),
        "course": lecture.course.get_absolute_url(),
        "course-with-locked-weeks": second.get_absolute_url(),
        "item-opens-on-a-date": opens_later.get_absolute_url(),
        "item-opens-after-start": drip.get_absolute_url(),
        "lecture": lecture.get_absolute_url(),
        "reading": reading.get_absolute_url(),
        "quiz": quiz.item.get_absolute_url(),
        "quiz-attempt": f"/quizzes/attempts/{in_progress.pk}/",
        "quiz-review": f"/quizzes/attempts/{submitted.pk}/",
        "assignment": item.get_absolute_url(),
        "notebook-editor": f"/grading/assignments/{item.pk}/editor/",
        "submission": submission.get_absolute_url(),
        "progress": "/progress/",
        "certificates": "/certificates/",
        "certificate": certificate.get_absolute_url(),
        "billing": "/billing/",
        "billing-cancel": "/billing/cancel/",
        "financial-aid": "/billing/financial-aid/",
        "profile": "/accounts/profile/",
        "notifications": "/notifications/",
        "notification-preferences": "/notifications/preferences/",
        "forums": "/forums/",
        "forum": f"/forums/{lecture.course.slug}/",
        "forum-search": f"/forums/{lecture.course.slug}/?q=shapes+aligned&unanswered=",
        "forum-thread": code_and_math.get_absolute_url(),
        "forum-ask": f"/forums/{lecture.course.slug}/ask/?item={item.pk}",
        "peer-review": peer.item.get_absolute_url(),
        "peer-review-training": f"/peer-review/{peer.pk}/training/",
        "peer-review-review": f"/peer-review/work/{peer_state['lease'].pk}/",
        "peer-review-assigned": "/peer-review/assigned/",
        "interviews": "/heroes/",
        "interview": interview.get_absolute_url(),
        "not-found": "/no/such/page/",
    }
    return learner, pages


def _log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/courses/"))


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_learner_page_fits_the_screen_and_passes_axe(browser, live_server, learner_world, width):
    learner, pages = learner_world
    context = browser.new_context(viewport=dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = {}
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for name, path in {"login": "/accounts/login/", "signup": "/accounts/signup/"}.items():
            page.goto(live_server.url + path)
            found = [f"overflow: {o}" for o in horizontal_overflow(page)] + axe_findings(page)
            if found:
                problems[name] = found
        _log_in(page, live_server, learner)
        for name, path in pages.items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            found = [f"overflow: {o}" for o in horizontal_overflow(page)] + axe_findings(page)
            if found:
                problems[name] = found
            page.screenshot(path=str(ARTIFACTS / f"every-page-{width}-{name}.png"), full_page=True)
    finally:
        context.close()
    assert not problems, "\n".join(f"{name}: {line}" for name, lines in problems.items() for line in lines)
