"""Peer-review pages: the learner's journey through the views, anonymity both ways, staff pages."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.models import Notification
from peer_review import services
from peer_review.models import Phase, Review, StaffAction, Submission
from tests.factories import UserFactory
from tests.peer_review import world
from tests.peer_review.conftest import EXAMPLES, GOOD, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def graded(make_assignment):
    assignment = make_assignment(examples=EXAMPLES)
    learner = subscriber()
    peers = [subscriber() for _ in range(4)]
    for n, peer in enumerate(peers):
        peer.name = f"Author Person {n}"
        peer.save()
    built = world.build(assignment, learner, peers=peers, top_scores=GOOD, comments={"plan": "Concrete and testable."})
    return assignment, learner, peers, built


def test_the_learner_sees_grade_and_feedback_per_criterion_without_names(client, graded):
    assignment, learner, _peers, built = graded
    assert built["mine"].phase == Phase.GRADED
    client.force_login(learner)
    html = client.get(assignment.item.get_absolute_url()).content.decode()
    assert 'data-grade="100.0"' in html and "Passed" in html
    assert "Reviewer 1" in html and "Concrete and testable." in html
    assert "Reviewer Person" not in html and "reviewer0@example.com" not in html


def test_the_reviewer_sees_the_work_without_its_author(client, graded):
    _assignment, learner, peers, built = graded
    client.force_login(learner)
    response = client.get(reverse("peer_review:review", args=[built["lease"].pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "Review a peer" in html
    for peer in peers:
        assert peer.name not in html and peer.email not in html


def test_notifications_never_name_the_other_side(graded):
    _assignment, learner, _peers, _built = graded
    texts = " ".join(f"{n.title} {n.body}" for n in Notification.objects.filter(recipient=learner))
    assert "grade" in texts and "Reviewer Person" not in texts and "@example.com" not in texts


def test_a_notebook_is_shown_read_only_without_its_metadata(client, make_assignment):
    assignment = make_assignment(submit={"text": True, "notebook": True})
    author, reviewer = subscriber(), UserFactory(is_peer_reviewer=True)
    notebook = {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {"authors": [{"name": "Ada Secretname"}]},
        "cells": [
            {"cell_type": "code", "source": "print('hi')", "metadata": {"owner": "Ada Secretname"},
             "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi\n"},
                         {"output_type": "display_data", "data": {"text/html": "<script>alert(1)</script>"}}]},
        ],
    }  # fmt: skip
    client.force_login(author)
    upload = SimpleUploadedFile("ada-secretname.ipynb", json.dumps(notebook).encode())
    client.post(reverse("peer_review:submit", args=[assignment.pk]), {"file": upload})
    submission = Submission.objects.get(author=author)
    assert submission.notebook["cells"][0]["outputs"] == [{"kind": "text", "text": "hi\n"}]
    services.review_request(reviewer=reviewer, assignment=assignment)
    client.force_login(reviewer)
    html = client.get(reverse("peer_review:review", args=[submission.pk])).content.decode()
    assert "print(&#x27;hi&#x27;)" in html and "Secretname" not in html and "<script>alert" not in html


def test_a_file_downloads_under_a_neutral_name_and_only_to_its_readers(client, make_assignment):
    assignment = make_assignment(submit={"text": True, "files": [".pdf"]})
    author, reviewer, stranger = subscriber(), UserFactory(is_peer_reviewer=True), subscriber()
    client.force_login(author)
    client.post(
        reverse("peer_review:submit", args=[assignment.pk]),
        {"file": SimpleUploadedFile("Ada Lovelace.pdf", b"%PDF-1.4 x")},
    )
    submission = Submission.objects.get(author=author)
    assert "Lovelace" not in submission.file.name
    services.review_request(reviewer=reviewer, assignment=assignment)
    client.force_login(reviewer)
    response = client.get(reverse("peer_review:file", args=[submission.pk]))
    assert response.status_code == 200 and f"submission-{submission.pk}.pdf" in response["Content-Disposition"]
    client.force_login(stranger)
    assert client.get(reverse("peer_review:file", args=[submission.pk])).status_code == 403


def test_bad_files_are_refused_with_a_message_and_nothing_saved(client, make_assignment):
    assignment = make_assignment(submit={"text": True, "files": [".pdf"], "max_file_mb": 1})
    author = subscriber()
    client.force_login(author)
    response = client.post(
        reverse("peer_review:submit", args=[assignment.pk]), {"file": SimpleUploadedFile("x.exe", b"MZ")}, follow=True
    )
    assert "not accepted here" in response.content.decode()
    assert not Submission.objects.filter(author=author).exists()


def test_the_learner_flow_through_the_pages(client, make_assignment):
    assignment = make_assignment(examples=EXAMPLES[:1], reviews_to_give=1, reviews_to_receive=1)
    other = subscriber()
    services.submission_submit(author=other, assignment=assignment, text="Other work")
    learner = subscriber()
    client.force_login(learner)
    page = assignment.item.get_absolute_url()
    client.post(reverse("peer_review:submit", args=[assignment.pk]), {"text": "My **plan**"})
    assert "Start the training step" in client.get(page).content.decode()
    training = reverse("peer_review:training", args=[assignment.pk])
    example = Submission.objects.get(is_training=True, assignment=assignment)
    response = client.post(training, {"submission": example.pk, "score-problem": "2", "score-plan": "4"}, follow=True)
    assert "matched staff exactly" in response.content.decode() and "Training complete" in response.content.decode()
    response = client.post(reverse("peer_review:request", args=[assignment.pk]))
    target = Submission.objects.get(author=other)
    assert response.url == reverse("peer_review:review", args=[target.pk])
    response = client.post(
        response.url, {"score-problem": "1", "score-plan": "2", "comment-plan": "Add a timeline."}, follow=True
    )
    assert "your review is saved" in response.content.decode()
    assert Review.objects.get(reviewer=learner, submission=target).comments == {"plan": "Add a timeline."}
    assigned = client.get(reverse("peer_review:assigned")).content.decode()
    assert assignment.item.title in assigned and "1</strong> review done" in assigned


def test_dispute_and_staff_resolution_through_the_pages(client, graded, staff):
    assignment, learner, _peers, built = graded
    mine = built["mine"]
    client.force_login(learner)
    client.post(reverse("peer_review:dispute", args=[mine.pk]), {"reason": "Please look again."})
    assert client.get(reverse("peer_review:dashboard", args=[assignment.pk])).status_code == 403
    client.force_login(staff)
    board = client.get(reverse("peer_review:dashboard", args=[assignment.pk])).content.decode()
    assert "Please look again." in board and learner.email in board  # staff see names
    dispute = mine.disputes.get()
    client.post(
        reverse("peer_review:staff_action", args=[mine.pk, "resolve"]),
        {"dispute": dispute.pk, "reason": "Checked: one criterion was generous.", "percent": "90"},
    )
    mine.refresh_from_db()
    assert mine.final_percent == 90 and StaffAction.objects.filter(kind="override", actor=staff).exists()
    csv = client.get(reverse("peer_review:export", args=[assignment.pk])).content.decode()
    assert csv.startswith("record,submission,author,reviewer") and learner.email in csv
    client.force_login(learner)
    html = client.get(assignment.item.get_absolute_url()).content.decode()
    assert "Checked: one criterion was generous." in html and "Set by staff" in html
