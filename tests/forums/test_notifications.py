"""Who hears about what in the forums, exactly once, through the notifications app: replies in followed
threads, new threads in followed topics and courses, accepted and endorsed answers, @mentions, flags
and held posts for moderators; e-mail now or in the daily digest, with a one-click unsubscribe."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from forums import services
from forums.models import Follow, Topic
from notifications import api as notifications
from notifications import services as notification_services
from notifications.models import Notification

from .conftest import member, newcomer

pytestmark = pytest.mark.django_db


def inbox(user, kind=None):
    rows = Notification.objects.filter(recipient=user)
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("id"))


def test_forum_kinds_are_on_the_preferences_page():
    keys = {kind.key for kind in notifications_kinds()}
    assert {"forum.reply", "forum.answer", "forum.mention", "forum.new_thread", "forum.flag", "forum.held"} <= keys


def notifications_kinds():
    from notifications import registry

    return registry.all_kinds()


def test_a_reply_notifies_the_threads_followers_once_and_never_the_author(ask, learner, other):
    thread = ask()
    follower = member()
    services.follow_set(user=follower, thread=thread, on=True)
    reply = services.reply_create(author=other, thread=thread, body="Lower the learning rate")
    [for_asker] = inbox(learner, "forum.reply")
    assert for_asker.title == f"{other.display_name} replied in “{thread.title}”"
    assert for_asker.url == reply.get_absolute_url() and "Lower the learning rate" in for_asker.body
    assert len(inbox(follower, "forum.reply")) == 1
    assert inbox(other) == []
    # The same event again (a retried task, an approval after an edit) notifies nobody twice.
    from forums import events

    assert events.reply_published(reply) == 0
    assert len(inbox(learner, "forum.reply")) == 1


def test_an_anonymous_reply_is_anonymous_in_notifications(ask, learner, other):
    thread = ask()
    other.name = "Grace Hopper"
    other.save()
    services.reply_create(author=other, thread=thread, body="Try this", anonymous=True)
    [note] = inbox(learner, "forum.reply")
    assert "Grace Hopper" not in note.title and note.title.startswith("An anonymous learner replied")


def test_banned_followers_hear_nothing(ask, forum, learner, other, staff_member):
    thread = ask()
    services.sanction_create(actor=staff_member, forum=forum, user=learner, kind="ban", days=3, reason="Abuse")
    services.reply_create(author=other, thread=thread, body="An answer")
    assert inbox(learner) == []


def test_new_threads_notify_who_follows_the_topic_or_the_course(forum, learner):
    by_topic, by_course = member(), member()
    services.follow_set(user=by_topic, topic=Topic.objects.get(forum=forum, slug="week-1"), on=True)
    services.follow_set(user=by_course, forum=forum, on=True)
    services.thread_create(
        author=learner,
        forum=forum,
        title="Week one question on ReLU",
        body="Why?",
        topic=forum.topics.get(slug="week-1"),
    )
    services.thread_create(
        author=learner,
        forum=forum,
        title="General question on notebooks",
        body="How?",
        topic=forum.topics.get(slug="general"),
    )
    assert [n.title for n in inbox(by_topic, "forum.new_thread")] == [
        "New question in Week 1: Introduction: “Week one question on ReLU”"
    ]
    assert len(inbox(by_course, "forum.new_thread")) == 2


def test_accepted_and_endorsed_answers_notify_the_asker_and_the_answerer(ask, learner, other, mentor):
    thread = ask()
    reply = services.reply_create(author=other, thread=thread, body="The answer")
    services.answer_accept(actor=learner, post=reply)
    assert [n.title for n in inbox(other, "forum.answer")] == [f"The asker accepted an answer in “{thread.title}”"]
    assert inbox(learner, "forum.answer") == []  # they did it themselves
    services.answer_accept(actor=learner, post=reply)  # withdrawn
    services.answer_accept(actor=learner, post=reply)  # and accepted again: no second notification
    assert len(inbox(other, "forum.answer")) == 1
    services.answer_endorse(actor=mentor, post=reply)
    assert len(inbox(learner, "forum.answer")) == 1 and len(inbox(other, "forum.answer")) == 2


def test_mentions_notify_members_who_can_read_once_and_not_in_code(ask, learner, other):
    services.profile_ensure(other)
    handle = other.forum_profile.handle
    thread = ask(body=f"Maybe @{handle} knows? Not `@{handle}` though")
    [note] = inbox(other, "forum.mention")
    assert note.title == f"{learner.display_name} mentioned you in “{thread.title}”"
    opening = thread.posts.get()
    assert f'<span class="mention">@{handle}</span>' in opening.body_html
    services.post_edit(editor=learner, post=opening, body=f"Edited, still asking @{handle}")
    assert len(inbox(other, "forum.mention")) == 1


def test_flags_and_held_posts_reach_the_moderators(ask, other, mentor, staff_member):
    reply = services.reply_create(author=other, thread=ask(), body="Spam link")
    flagger = member()
    services.flag_create(flagger=flagger, post=reply, reason="spam")
    for moderator in (mentor, staff_member):
        [note] = inbox(moderator, "forum.flag")
        assert note.title.startswith("Flagged post in") and note.url == reply.get_absolute_url()
    assert inbox(flagger) == [] and inbox(other, "forum.flag") == []
    held = services.thread_create(
        author=newcomer(), forum=reply.thread.forum, title="A newcomer's first question", body="Hi"
    )
    assert len(inbox(mentor, "forum.held")) == 1
    assert inbox(other, "forum.new_thread") == []  # nobody else hears of a held post until it is approved
    services.post_approve(actor=mentor, post=held.posts.get())


def test_a_held_reply_notifies_followers_when_it_is_approved(ask, learner, mentor):
    thread = ask()
    reply = services.reply_create(author=newcomer(), thread=thread, body="My first answer")
    assert inbox(learner, "forum.reply") == []
    services.post_approve(actor=mentor, post=reply)
    assert len(inbox(learner, "forum.reply")) == 1


def test_reply_emails_go_out_once_with_a_one_click_unsubscribe(ask, learner, other, after_commit):
    thread = ask()
    with after_commit():
        services.reply_create(author=other, thread=thread, body="Lower the learning rate")
    notification_services.outbox_deliver_due(now=timezone.now() + datetime.timedelta(seconds=1))
    [message] = [m for m in mail.outbox if learner.email in m.to]
    assert thread.title in message.subject
    assert (
        message.extra_headers["List-Unsubscribe"]
        == f"<{notifications.unsubscribe_url(user_id=learner.pk, kind='forum.reply')}>"
    )
    assert "Lower the learning rate" in message.body
    notification_services.outbox_deliver_due(now=timezone.now() + datetime.timedelta(minutes=5))
    assert len([m for m in mail.outbox if learner.email in m.to]) == 1


def test_new_threads_come_in_the_daily_digest_by_default(forum, learner):
    follower = member()
    services.follow_set(user=follower, forum=forum, on=True)
    for n in range(2):
        services.thread_create(author=learner, forum=forum, title=f"Question number {n} of today", body="Why?")
    assert mail.outbox == []
    now = timezone.now() + datetime.timedelta(seconds=1)
    assert notification_services.digests_send(now=now) >= 1
    notification_services.outbox_deliver_due(now=now)
    [digest] = [m for m in mail.outbox if follower.email in m.to]
    assert "Question number 0 of today" in digest.body and "Question number 1 of today" in digest.body
    assert notification_services.digests_send(now=now) == 0


def test_following_is_per_member_and_can_be_undone(ask, other):
    thread = ask()
    services.follow_set(user=other, thread=thread, on=True)
    services.follow_set(user=other, thread=thread, on=False)
    assert not Follow.objects.filter(user=other, thread=thread).exists()
