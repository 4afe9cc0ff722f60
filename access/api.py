"""The access app's public door: every "may this user ..." decision, and nothing else.

    from access import api as access

    decision = access.can_view_item(request.user, item)   # a Decision: truthy when allowed
    if not decision:
        return HttpResponseForbidden(decision.message)     # the sentence written for the learner
    access.can_submit(user, item).require()                # raises AccessDenied(decision)

Views, templates (through the decisions their views pass), the video file server, quizzes, grading,
peer review, the forums and the API all ask here; nobody re-implements a rule. The table of learner
states is in ARCHITECTURE.md; why it is one module: access/docs/decisions/0001-one-access-module.md.
"""

from __future__ import annotations

from .decisions import ALLOW, AccessDenied, Decision, Reason
from .decorators import manage_required
from .policy import (
    FULL_ACCESS,
    AccessState,
    access_state,
    can_download,
    can_download_course_archive,
    can_earn_certificate,
    can_endorse,
    can_manage,
    can_manage_peer_review,
    can_moderate_forum,
    can_post_in_forum,
    can_read_forum,
    can_review_peer,
    can_review_without_submitting,
    can_revoke_certificate,
    can_see_anonymous_authors,
    can_see_peer_identities,
    can_submit,
    can_take_quiz,
    can_track_progress,
    can_view_interview,
    can_view_item,
    can_view_submission,
    forget,
    has_full_access,
)

__all__ = [
    "ALLOW",
    "FULL_ACCESS",
    "AccessDenied",
    "AccessState",
    "Decision",
    "Reason",
    "access_state",
    "can_download",
    "can_download_course_archive",
    "can_earn_certificate",
    "can_endorse",
    "can_manage",
    "can_manage_peer_review",
    "can_moderate_forum",
    "can_post_in_forum",
    "can_read_forum",
    "can_review_peer",
    "can_review_without_submitting",
    "can_revoke_certificate",
    "can_see_anonymous_authors",
    "can_see_peer_identities",
    "can_submit",
    "can_take_quiz",
    "can_track_progress",
    "can_view_interview",
    "can_view_item",
    "can_view_submission",
    "forget",
    "has_full_access",
    "manage_required",
]
