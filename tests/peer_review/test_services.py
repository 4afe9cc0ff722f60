"""Peer review's rules: who may review what, in which order, leases, fallbacks, release, staff actions."""

import datetime
from pathlib import Path

import pytest

from courses import api as courses
from peer_review import pack, selectors, services
from peer_review.models import Phase, Review, ReviewStatus, StaffAction, Submission
from tests.factories import UserFactory
from tests.peer_review.conftest import EXAMPLES, GOOD, POOR, RUBRIC, subscriber

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
pytestmark = pytest.mark.django_db


def hours(n):
    return T0 + datetime.timedelta(hours=n)


def submit(assignment, *, at=T0, text="My plan: collect data, pick a metric."):
    learner = subscriber()
    services.submission_submit(author=learner, assignment=assignment, text=text, now=at)
    return learner


def review(learner, assignment, scores=GOOD, *, at=T0):
    got = services.review_request(reviewer=learner, assignment=assignment, now=at)
    assert got is not None
    services.review_submit(reviewer=learner, submission_id=got.pk, scores=scores, now=at)
    return got


def review_of(reviewer, assignment, target, scores, *, at=T0):
    """A reviewer (role) takes work until it gets `target`, reviewing what comes before it with GOOD."""
    got = services.review_request(reviewer=reviewer, assignment=assignment, now=at)
    while got != target:
        services.review_submit(reviewer=reviewer, submission_id=got.pk, scores=GOOD, now=at)
        got = services.review_request(reviewer=reviewer, assignment=assignment, now=at)
    return services.review_submit(reviewer=reviewer, submission_id=target.pk, scores=scores, now=at)


def test_a_learner_submits_before_reviewing_and_trains_first(make_assignment):
    assignment = make_assignment(examples=EXAMPLES)
    learner = subscriber()
    with pytest.raises(services.ReviewRefused, match="Submit your own work first"):
        services.review_request(reviewer=learner, assignment=assignment, now=T0)
    services.submission_submit(author=learner, assignment=assignment, text="Work", now=T0)
    with pytest.raises(services.ReviewRefused, match="training step"):
        services.review_request(reviewer=learner, assignment=assignment, now=T0)
    first, second = selectors.training_examples(assignment=assignment)
    services.review_submit(reviewer=learner, submission_id=first.pk, scores=POOR, now=T0)  # 100 points off
    assert selectors.training_next(reviewer=learner, assignment=assignment) == first
    retry = services.review_submit(reviewer=learner, submission_id=first.pk, scores=GOOD, now=T0)
    assert retry.bias_after == 0 and Review.objects.filter(submission=first, reviewer=learner).count() == 1
    services.review_submit(reviewer=learner, submission_id=second.pk, scores={"problem": 1, "plan": 2}, now=T0)
    assert selectors.training_next(reviewer=learner, assignment=assignment) is None
    assert services.check_can_review(reviewer=learner, assignment=assignment, now=T0) == ""


def test_work_goes_to_the_fewest_reviews_then_the_longest_waiting(make_assignment):
    assignment = make_assignment()
    old, middle, new = submit(assignment, at=hours(0)), submit(assignment, at=hours(1)), submit(assignment, at=hours(2))
    own = {u.pk: Submission.objects.get(author=u) for u in (old, middle, new)}
    # old's work gets one lease from `middle`; the next reviewer (`new`) then gets middle's work (0 reviews, older
    # than its own) and `old` gets new's work (the only one left with no review that is not its own).
    assert services.review_request(reviewer=middle, assignment=assignment, now=hours(3)) == own[old.pk]
    assert services.review_request(reviewer=new, assignment=assignment, now=hours(3)) == own[middle.pk]
    assert services.review_request(reviewer=old, assignment=assignment, now=hours(3)) == own[new.pk]


def test_never_your_own_work_nor_work_you_reviewed(make_assignment):
    assignment = make_assignment(reviews_to_give=3)
    a, b = submit(assignment), submit(assignment)
    got = review(a, assignment)
    assert got.author == b
    assert services.review_request(reviewer=a, assignment=assignment, now=T0) is None  # nothing else exists
    assert Review.objects.filter(reviewer=a).count() == 1


def test_asking_twice_returns_the_same_lease(make_assignment):
    assignment = make_assignment()
    a, _b, _c = submit(assignment), submit(assignment), submit(assignment)
    first = services.review_request(reviewer=a, assignment=assignment, now=T0)
    assert services.review_request(reviewer=a, assignment=assignment, now=hours(1)) == first
    assert Review.objects.filter(reviewer=a, status=ReviewStatus.LEASED).count() == 1


def test_a_lease_expires_after_eight_hours_and_the_slot_returns(make_assignment, settings):
    settings.PEER_REVIEW_LEASE_HOURS = 8
    assignment = make_assignment(reviews_to_receive=1)
    a, b, c = submit(assignment), submit(assignment), submit(assignment)
    leased = services.review_request(reviewer=b, assignment=assignment, now=T0)
    assert leased.author == a and leased.active_reviews == 1
    # c asks within the lease: a's one slot is taken, so c gets b's work
    assert services.review_request(reviewer=c, assignment=assignment, now=hours(7)).author == b
    with pytest.raises(services.ReviewRefused, match="ran out"):
        services.review_submit(reviewer=b, submission_id=leased.pk, scores=GOOD, now=hours(8.5))
    leased.refresh_from_db()
    assert leased.active_reviews == 0
    assert Review.objects.get(reviewer=b, submission=leased).status == ReviewStatus.EXPIRED
    # the slot is back: the next reviewer asking gets a's work
    assert (
        services.review_request(reviewer=UserFactory(is_peer_reviewer=True), assignment=assignment, now=hours(9))
        == leased
    )


def test_the_last_learner_gets_calibration_work_that_counts(make_assignment):
    examples = [EXAMPLES[0], {**EXAMPLES[1], "training": False}]  # one training example, one calibration example
    assignment = make_assignment(examples=examples, reviews_to_give=2, reviews_to_receive=1)
    training = selectors.training_examples(assignment=assignment)[0]
    first = subscriber()
    services.submission_submit(author=first, assignment=assignment, text="Mine", now=T0)
    services.review_submit(reviewer=first, submission_id=training.pk, scores=GOOD, now=T0)
    got = services.review_request(reviewer=first, assignment=assignment, now=T0)
    assert got.is_example and not got.is_training  # nobody else has submitted: calibration work
    done = services.review_submit(reviewer=first, submission_id=got.pk, scores={"problem": 1, "plan": 2}, now=T0)
    assert done.is_calibration and done.bias_after == pytest.approx(16.67, abs=0.01)  # shown to the reviewer
    assert selectors.reviews_given(reviewer=first, assignment=assignment) == 1
    # nothing more to give: the learner is not blocked; their grade waits only for a reviewer
    assert services.review_request(reviewer=first, assignment=assignment, now=T0) is None
    mine = Submission.objects.get(author=first)
    assert mine.gave_all_available
    second = subscriber()
    services.submission_submit(author=second, assignment=assignment, text="Theirs", now=hours(1))
    services.review_submit(reviewer=second, submission_id=training.pk, scores=GOOD, now=hours(1))
    review(second, assignment, GOOD, at=hours(1))
    mine.refresh_from_db()
    assert mine.phase == Phase.GRADED and mine.final_percent == 100


def test_extra_reviews_go_to_the_work_waiting_longest(make_assignment):
    assignment = make_assignment(reviews_to_give=1, reviews_to_receive=1)
    _a, b, c, d = (submit(assignment, at=hours(n)) for n in range(4))
    review(d, assignment, at=hours(5))  # d reviews a (oldest, none yet)
    review(c, assignment, at=hours(5))  # c reviews b
    extra = services.review_request(reviewer=d, assignment=assignment, now=hours(6))  # d has given its share
    assert extra.author == c  # work still short of reviews comes first
    services.review_submit(reviewer=d, submission_id=extra.pk, scores=GOOD, now=hours(6))
    assert Review.objects.get(reviewer=d, submission=extra).is_extra
    # nothing is short any more (b's work is not graded yet: b has not received... it has; d may add one)
    again = services.review_request(reviewer=d, assignment=assignment, now=hours(7))
    assert again.author == b  # the work waiting longest that d has not reviewed


def test_the_grade_is_released_after_giving_and_receiving_and_counts(
    make_assignment, django_capture_on_commit_callbacks
):
    assignment = make_assignment(reviews_to_give=1, reviews_to_receive=2, pass_percent=60)
    a, b, c = submit(assignment), submit(assignment), submit(assignment)
    review(b, assignment, GOOD)  # b reviews a
    review(c, assignment, {"problem": 1, "plan": 4})  # c reviews b (a has 1)... each gets the fewest
    mine = Submission.objects.get(author=a)
    assert mine.phase == Phase.OPEN and mine.released_at is None  # a has given nothing yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        review(a, assignment, GOOD)
        extra_reviewer = UserFactory(is_peer_reviewer=True)
        while Submission.objects.get(author=a).completed_reviews < 2:
            review(extra_reviewer, assignment, {"problem": 2, "plan": 2})
    mine.refresh_from_db()
    assert mine.phase == Phase.GRADED and mine.method == "median"
    assert mine.final_percent == pytest.approx(
        selectors.grade_estimate(submission=mine).estimate.median_percent, abs=0.01
    )
    assert callbacks  # graded_result_changed queued after the commit
    assert selectors.passed_item_ids(a, [assignment.item]) == {assignment.pk}
    assert courses.item_facts(assignment.pk).is_graded


def test_work_short_of_reviews_needs_fewer_then_reaches_staff(make_assignment):
    assignment = make_assignment(reviews_to_give=1, reviews_to_receive=3, short_after_days=7)
    a, b = submit(assignment), submit(assignment)
    review(a, assignment)  # a reviews b: b has 1 of 3
    review(b, assignment)  # b reviews a: a has 1 of 3
    lone = submit(assignment, at=hours(1))  # nobody reviews this one
    counts = services.short_of_reviews_sweep(assignment=assignment, now=T0 + datetime.timedelta(days=7, hours=2))
    assert counts["lowered"] == 2
    for learner in (a, b):
        mine = Submission.objects.get(author=learner)
        assert mine.required_reviews == 1 and mine.phase == Phase.GRADED
    waiting = Submission.objects.get(author=lone)
    assert waiting.required_reviews == 1 and waiting.phase == Phase.OPEN
    services.short_of_reviews_sweep(assignment=assignment, now=T0 + datetime.timedelta(days=14, hours=2))
    waiting.refresh_from_db()
    assert waiting.phase == Phase.STAFF_QUEUE and waiting.staff_queue_at is not None


def test_resubmission_replaces_until_the_first_lease_then_only_staff_allow_it(make_assignment, staff):
    assignment = make_assignment()
    a, b = submit(assignment), submit(assignment)
    first = services.submission_submit(author=a, assignment=assignment, text="Second draft", now=hours(1))
    assert Submission.objects.filter(author=a).count() == 1 and first.text == "Second draft"
    services.review_request(reviewer=b, assignment=assignment, now=hours(2))
    with pytest.raises(services.SubmissionRefused, match="Staff can allow"):
        services.submission_submit(author=a, assignment=assignment, text="Third", now=hours(3))
    services.resubmission_allow(actor=staff, submission_id=first.pk, reason="Uploaded the wrong file", now=hours(3))
    newer = services.submission_submit(author=a, assignment=assignment, text="Third", now=hours(4))
    first.refresh_from_db()
    assert first.superseded and newer.pk != first.pk and not newer.ever_leased
    assert Review.objects.get(reviewer=b).status == ReviewStatus.EXPIRED
    assert StaffAction.objects.get(kind="allow_resubmit").actor == staff


def test_a_wide_spread_escalates_instead_of_releasing(make_assignment, settings):
    settings.PEER_REVIEW_ESCALATION_SPREAD = 40
    assignment = make_assignment(reviews_to_give=1, reviews_to_receive=2)
    a, _b, _c = submit(assignment), submit(assignment), submit(assignment)
    review(a, assignment)
    mine = Submission.objects.get(author=a)
    review_of(UserFactory(is_peer_reviewer=True), assignment, mine, GOOD)
    review_of(UserFactory(is_peer_reviewer=True), assignment, mine, POOR)
    mine.refresh_from_db()
    assert mine.phase == Phase.ESCALATED and mine.released_at is None and mine.spread == 100


def test_scores_must_be_options_of_every_criterion_and_nothing_is_saved(make_assignment):
    assignment = make_assignment()
    a, b = submit(assignment), submit(assignment)
    got = services.review_request(reviewer=a, assignment=assignment, now=T0)
    for bad, message in [
        ({"problem": 2}, "missing: plan"),
        ({"problem": 3, "plan": 4}, "not one of the options"),
        ({"problem": 2, "plan": 4, "style": 1}, "Unknown criterion"),
        ({"problem": True, "plan": 4}, "not one of the options"),
    ]:
        with pytest.raises(services.ReviewRefused, match=message):
            services.review_submit(reviewer=a, submission_id=got.pk, scores=bad, now=T0)
    assert Review.objects.get(reviewer=a).status == ReviewStatus.LEASED
    with pytest.raises(services.ReviewRefused, match="not assigned to you"):
        services.review_submit(reviewer=b, submission_id=Submission.objects.get(author=b).pk, scores=GOOD, now=T0)


def test_the_rubric_freezes_with_the_first_review(make_assignment):
    assignment = make_assignment()
    changed = {"rubric": [*RUBRIC[:1], {**RUBRIC[1], "weight": 3}]}
    pack.apply(assignment.item, changed, Path("."))  # no review yet: the rubric may change
    assert selectors.rubric(assignment=type(assignment).objects.get(pk=assignment.pk))[1].weight == 3
    a, _b = submit(assignment), submit(assignment)
    review(a, assignment)
    with pytest.raises(courses.PackError, match="rubric is frozen"):
        pack.apply(assignment.item, {"rubric": RUBRIC}, Path("."))
    pack.apply(assignment.item, {"rubric": changed["rubric"], "pass_percent": 70}, Path("."))  # same rubric: fine


def test_a_dispute_once_and_an_override_with_its_audit_trail(make_assignment, staff):
    assignment = make_assignment(reviews_to_give=1, reviews_to_receive=1)
    a, b = submit(assignment), submit(assignment)
    review(a, assignment, POOR)
    review(b, assignment, POOR)
    mine = Submission.objects.get(author=a)
    assert mine.phase == Phase.GRADED and mine.final_percent == 0
    dispute = services.dispute_open(author=a, submission_id=mine.pk, reason="The plan section was ignored.", now=T0)
    with pytest.raises(services.PeerReviewError, match="once per assignment"):
        services.dispute_open(author=a, submission_id=mine.pk, reason="Again", now=T0)
    with pytest.raises(services.PeerReviewError, match="own grade"):
        services.dispute_open(author=b, submission_id=mine.pk, reason="Not mine", now=T0)
    with pytest.raises(Exception, match="staff"):
        services.dispute_resolve(actor=b, dispute_id=dispute.pk, resolution="Mine now", percent=100)
    services.dispute_resolve(
        actor=staff, dispute_id=dispute.pk, resolution="Plan was concrete.", percent=80, now=hours(1)
    )
    mine.refresh_from_db()
    assert mine.final_percent == 80 and mine.overridden
    override = StaffAction.objects.get(kind="override")
    assert (override.actor, override.at, override.before["percent"], override.after["percent"]) == (
        staff,
        hours(1),
        0,
        80,
    )
    assert override.reason == "Plan was concrete."
    assert StaffAction.objects.filter(kind="resolve_dispute").count() == 1


def test_discarding_a_review_recomputes_the_grade(make_assignment, staff, settings):
    settings.PEER_REVIEW_ESCALATION_SPREAD = 100
    assignment = make_assignment(reviews_to_give=1, reviews_to_receive=2)
    a, _b, _c = submit(assignment), submit(assignment), submit(assignment)
    review(a, assignment, GOOD)
    mine = Submission.objects.get(author=a)
    r = UserFactory(is_peer_reviewer=True)
    review_of(UserFactory(is_peer_reviewer=True), assignment, mine, GOOD)
    bad = review_of(r, assignment, mine, POOR)
    mine.refresh_from_db()
    assert mine.phase == Phase.GRADED and mine.final_percent == 50  # median of 100 and 0
    services.review_flag(user=a, review_id=bad.pk, reason="Gave zero without reading", now=T0)
    services.review_discard(actor=staff, review_id=bad.pk, reason="Careless review", now=hours(1))
    mine.refresh_from_db()
    assert mine.final_percent == 100 and mine.completed_reviews == 1
    audit = StaffAction.objects.get(kind="discard")
    assert audit.before["percent"] == 50 and audit.after["percent"] == 100 and audit.review_id == bad.pk


def test_staff_grade_from_the_queue_releases_and_becomes_a_spot_check(make_assignment, staff):
    assignment = make_assignment(short_after_days=1)
    lone = submit(assignment)
    services.short_of_reviews_sweep(assignment=assignment, now=T0 + datetime.timedelta(days=3))
    mine = Submission.objects.get(author=lone)
    assert mine.phase == Phase.STAFF_QUEUE
    services.staff_grade(actor=staff, submission_id=mine.pk, scores={"problem": 1, "plan": 4}, now=hours(80))
    mine.refresh_from_db()
    assert mine.phase == Phase.GRADED and mine.final_percent == pytest.approx(83.33, abs=0.01)
    assert mine.staff_scores == {"problem": 1, "plan": 4} and mine.method == "staff"
