"""A peer-review assignment part-way through, for page tests and the every-page browser check: the learner
submitted, trained, gave three reviews, received three, has a released grade and holds one more lease."""

from peer_review import selectors, services
from peer_review.models import Submission
from tests.factories import UserFactory


def _take(reviewer, assignment, target, scores, *, comments=None):
    """A reviewer (role) takes work until it gets `target`, reviewing what comes before it as well."""
    got = services.review_request(reviewer=reviewer, assignment=assignment)
    while got is not None and got != target:
        services.review_submit(reviewer=reviewer, submission_id=got.pk, scores=scores)
        got = services.review_request(reviewer=reviewer, assignment=assignment)
    services.review_submit(reviewer=reviewer, submission_id=target.pk, scores=scores, comments=comments)


def build(assignment, learner, *, peers, top_scores, comments=None) -> dict:
    """`peers`: subscribed learners (four or more); `top_scores`: the best option of each criterion."""
    for n, peer in enumerate(peers):
        services.submission_submit(author=peer, assignment=assignment, text=f"Peer plan number {n}: metric first.")
    mine = services.submission_submit(author=learner, assignment=assignment, text="My plan: **recall** at 95 %.")
    for example in selectors.training_examples(assignment=assignment):
        services.review_submit(reviewer=learner, submission_id=example.pk, scores=dict(example.staff_scores))
    for _ in range(assignment.reviews_to_give):
        got = services.review_request(reviewer=learner, assignment=assignment)
        services.review_submit(reviewer=learner, submission_id=got.pk, scores=top_scores)
    for n in range(assignment.reviews_to_receive):
        reviewer = UserFactory(is_peer_reviewer=True, name=f"Reviewer Person {n}", email=f"reviewer{n}@example.com")
        _take(reviewer, assignment, mine, top_scores, comments=comments)
    mine.refresh_from_db()
    lease = services.review_request(reviewer=learner, assignment=assignment)  # one more, optional
    return {"mine": Submission.objects.get(pk=mine.pk), "lease": lease}
