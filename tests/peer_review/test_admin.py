"""The admin: the rubric is editable until the first review, then read-only."""

import pytest
from django.contrib import admin

from peer_review import services
from peer_review.admin import CriterionAdmin, CriterionInline
from peer_review.models import Criterion
from tests.peer_review.conftest import GOOD, subscriber

pytestmark = pytest.mark.django_db


def test_the_rubric_is_read_only_in_the_admin_once_frozen(make_assignment, rf, staff):
    staff.is_superuser = True
    request = rf.get("/")
    request.user = staff
    assignment = make_assignment()
    criterion = Criterion.objects.filter(assignment=assignment).first()
    inline = CriterionInline(type(assignment), admin.site)
    model_admin = CriterionAdmin(Criterion, admin.site)
    assert inline.has_add_permission(request, assignment) and model_admin.has_change_permission(request, criterion)
    a, b = subscriber(), subscriber()
    for learner in (a, b):
        services.submission_submit(author=learner, assignment=assignment, text="Work")
    got = services.review_request(reviewer=a, assignment=assignment)
    services.review_submit(reviewer=a, submission_id=got.pk, scores=GOOD)
    assignment.refresh_from_db()
    criterion.refresh_from_db()
    assert not inline.has_add_permission(request, assignment)
    assert not inline.has_delete_permission(request, assignment)
    assert not model_admin.has_change_permission(request, criterion)


def test_the_assignment_admin_pages_render(client, make_assignment, staff):
    staff.is_superuser = True
    staff.save()
    assignment = make_assignment()
    client.force_login(staff)
    assert client.get(f"/admin/peer_review/assignment/{assignment.pk}/change/").status_code == 200
    assert client.get("/admin/peer_review/submission/").status_code == 200
