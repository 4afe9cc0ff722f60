"""Reads of the course pages' own state (the course archives)."""

from __future__ import annotations

from django.http import Http404

from .models import CourseArchive


def archive_latest(*, user, course_id: int) -> CourseArchive | None:
    if not user.is_authenticated:
        return None
    return CourseArchive.objects.filter(user=user, course_id=course_id).first()


def archive_for_owner(*, user, archive_id: int) -> CourseArchive:
    archive = CourseArchive.objects.select_related("course").filter(pk=archive_id, user_id=user.pk).first()
    if archive is None:
        raise Http404("No such download.")
    return archive
