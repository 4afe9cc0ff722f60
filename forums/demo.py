"""The demo pack's forum threads (content/demo/forums.yaml): validated, then loaded idempotently."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts import api as accounts
from courses import api as courses

from . import services
from .models import Profile, Thread, ThreadKind


class DemoError(ValueError):
    pass


def load(path: Path) -> dict:
    """The file's data, through the bounded YAML reader every pack file goes through."""
    try:
        data = courses.yaml_plain(courses.yaml_loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise DemoError(f"{path}: {exc}") from None
    except courses.YamlError as exc:
        raise DemoError(f"{path}, line {exc.line}: {exc}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("members"), dict)
        or not isinstance(data.get("threads"), list)
    ):
        raise DemoError(f"{path}: needs a 'members' mapping and a 'threads' list.")
    for index, thread in enumerate(data["threads"], 1):
        for key in ("course", "author", "title", "body"):
            if key not in thread:
                raise DemoError(f"{path}: thread {index} has no '{key}'.")
        people = [thread["author"]] + [r.get("author") for r in thread.get("replies", [])]
        for person in people:
            if person not in data["members"]:
                raise DemoError(f"{path}: thread {index} names an unknown member {person!r}.")
    return data


def seed(path: Path, *, now: datetime.datetime | None = None, trust_emails: tuple[str, ...] = ()) -> tuple[int, int]:
    """Load the threads not there yet. Returns (threads created, threads already present)."""
    data = load(path)
    now = now or timezone.now()
    created = skipped = 0
    with transaction.atomic():
        members = {}
        for key, spec in data["members"].items():
            user = get_user_model().objects.filter(email=spec["email"]).first() or accounts.user_create_verified(
                email=spec["email"], password=None, name=spec["name"], is_mentor=bool(spec.get("mentor"))
            )
            members[key] = user
            services.profile_ensure(user)
            Profile.objects.filter(user=user, trusted_at__isnull=True).update(trusted_at=now)
        for email in trust_emails:  # the demo learner posts at once in the demo
            user = get_user_model().objects.filter(email=email).first()
            if user:
                services.profile_ensure(user)
                Profile.objects.filter(user=user, trusted_at__isnull=True).update(trusted_at=now)
        for spec in data["threads"]:
            course = courses.course_get(slug=spec["course"])
            forum = services.forum_ensure(course_id=course.pk)
            if Thread.objects.filter(forum=forum, title=" ".join(spec["title"].split())).exists():
                skipped += 1
                continue
            _thread(forum, course, spec, members, now)
            created += 1
    return created, skipped


def _thread(forum, course, spec, members, now):
    item_id = None
    if spec.get("item"):
        structure = courses.course_structure(course_id=course.pk)
        item_id = next((i.item_id for w in structure for i in w.items if i.slug == spec["item"]), None)
        if item_id is None:
            raise DemoError(f"{spec['course']} has no item {spec['item']!r}.")
    topics = forum.topics.filter(is_archived=False)
    if spec.get("topic"):
        topic = topics.filter(slug=spec["topic"]).first()
        if topic is None:
            raise DemoError(f"{spec['course']} has no topic {spec['topic']!r}.")
    else:
        topic = topics.filter(item_id=item_id).first() if item_id else None
        topic = topic or services._topic_for(forum, courses.item_facts(item_id) if item_id else None)
    asked = now - datetime.timedelta(hours=float(spec.get("hours_ago", 24)))
    thread = services.thread_import(
        forum=forum,
        topic=topic,
        author=members[spec["author"]],
        title=spec["title"],
        body=spec["body"],
        created_at=asked,
        kind=spec.get("kind", ThreadKind.QUESTION),
        item_id=item_id,
        anonymous=bool(spec.get("anonymous")),
    )
    opening = thread.posts.get(kind="opening")
    services.votes_import(post=opening, users=[members[k] for k in spec.get("votes", [])])
    for reply_spec in spec.get("replies", []):
        at = asked + datetime.timedelta(hours=float(reply_spec.get("after_hours", 1)))
        reply = services.reply_import(
            thread=thread, author=members[reply_spec["author"]], body=reply_spec["body"], created_at=at
        )
        services.votes_import(post=reply, users=[members[k] for k in reply_spec.get("votes", [])])
        for comment in reply_spec.get("comments", []):
            services.reply_import(
                thread=thread,
                parent=reply,
                author=members[comment["author"]],
                body=comment["body"],
                created_at=asked + datetime.timedelta(hours=float(comment.get("after_hours", 2))),
            )
        if reply_spec.get("accepted"):
            thread.refresh_from_db()
            services.mark_import(
                post=reply, actor=thread.author, how="accepted", at=at + datetime.timedelta(minutes=20)
            )
        if reply_spec.get("endorsed_by"):
            thread.refresh_from_db()
            services.mark_import(
                post=reply,
                actor=members[reply_spec["endorsed_by"]],
                how="endorsed",
                at=at + datetime.timedelta(minutes=30),
            )
