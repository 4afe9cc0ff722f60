"""Posting, answering, moderating: the rules a member meets, each refused with a sentence and no change."""

import datetime

import pytest
from django.utils import timezone

from forums import rules, services
from forums.models import (
    Flag,
    Follow,
    Post,
    PostKind,
    PostRevision,
    Profile,
    SanctionKind,
    Thread,
    ThreadKind,
    Topic,
    TopicKind,
    Visibility,
    Vote,
)
from forums.rules import ForumError
from tests.factories import SubscriptionFactory, UserFactory

from .conftest import OLD, member, newcomer

pytestmark = pytest.mark.django_db
NOW = timezone.now()


# ---- the forum follows the course structure ----------------------------------------------------


def test_forum_has_a_topic_per_week_and_per_assignment_plus_general(forum):
    topics = {t.slug: t for t in forum.topics.all()}
    assert set(topics) == {"general", "week-1", "week-2", "assignment-logistic-regression-lab"}
    assert topics["week-2"].title == "Week 2: Basics"
    assignment = topics["assignment-logistic-regression-lab"]
    assert assignment.kind == TopicKind.ASSIGNMENT and assignment.item.title == "Logistic Regression Lab"
    assert assignment.week_number == 2


def test_topics_follow_a_changed_structure_and_archive_what_left(course, forum):
    from courses.models import Item, Week

    Week.objects.create(course=course, number=3, title="Shallow networks")
    Item.objects.filter(slug="logistic-regression-lab").delete()
    services.forum_ensure(course_id=course.pk)  # within the cache's minute: nothing changes yet
    assert not forum.topics.filter(slug="week-3").exists()
    from forums import api

    api.forum_sync(course_id=course.pk)  # at once (otherwise within STRUCTURE_TTL_SECONDS)
    topics = {t.slug: t for t in forum.topics.all()}
    assert topics["week-3"].title == "Week 3: Shallow networks" and not topics["week-3"].is_archived
    assert topics["assignment-logistic-regression-lab"].is_archived  # kept with its threads, out of lists


def test_asking_about_an_item_files_the_thread_under_its_topic(forum, ask, course):
    lab = course.items.get(slug="logistic-regression-lab")
    lecture = course.items.get(slug="vectorization")
    assert ask(item_id=lab.pk).topic.slug == "assignment-logistic-regression-lab"
    thread = ask(title="Vectorization is still slow for me", item_id=lecture.pk)
    assert thread.topic.slug == "week-2" and thread.week_number == 2 and thread.item_id == lecture.pk


def test_an_item_of_another_course_is_refused(forum, ask):
    from tests.factories import ItemFactory

    with pytest.raises(ForumError, match="another course"):
        ask(item_id=ItemFactory().pk)
    assert not Thread.objects.exists()


# ---- who may post -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("registered", False),
        ("active", True),
        ("trialing", True),
        ("expired", False),
        ("mentor", True),
        ("staff", True),
    ],
)
def test_posting_follows_the_access_policy(forum, who, allowed):
    user = {
        "registered": lambda: UserFactory(date_joined=OLD),
        "active": lambda: SubscriptionFactory(user__date_joined=OLD).user,
        "trialing": lambda: SubscriptionFactory(status="incomplete", trial_end=NOW + datetime.timedelta(days=3)).user,
        "expired": lambda: SubscriptionFactory(status="canceled", ended_at=NOW - datetime.timedelta(days=1)).user,
        "mentor": lambda: UserFactory(is_mentor=True),
        "staff": lambda: UserFactory(is_staff=True),
    }[who]()
    assert bool(rules.check_can_read(user, forum))  # everyone signed in reads, whatever they pay
    if allowed:
        services.thread_create(author=user, forum=forum, title="A question about week one", body="Details.")
    else:
        with pytest.raises(ForumError) as refused:
            services.thread_create(author=user, forum=forum, title="A question about week one", body="Details.")
        assert str(refused.value)
        assert not Thread.objects.exists()


def test_visitors_read_only_public_forums(forum, client):
    from django.contrib.auth.models import AnonymousUser

    assert not rules.check_can_read(AnonymousUser(), forum)
    forum.is_public = True
    forum.save()
    assert rules.check_can_read(AnonymousUser(), forum)


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("Help", "Details here", "at least 10 characters"),
        ("x" * 201, "Details here", "under 200 characters"),
        ("A proper question title", " ", "Write something"),
        ("A proper question title", "x" * 20_001, "at most 20,000"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(ask, title, body, message):
    with pytest.raises(ForumError, match=message):
        ask(title=title, body=body)
    assert not Thread.objects.exists() and not Post.objects.exists()


def test_a_muted_member_reads_but_cannot_post_and_a_banned_one_cannot_read(forum, ask, learner, staff_member):
    services.sanction_create(actor=staff_member, forum=forum, user=learner, kind="mute", days=3, reason="Spam")
    assert rules.check_can_read(learner, forum)
    with pytest.raises(ForumError, match=r"You are muted in this forum until .*Spam"):
        ask()
    services.sanction_create(actor=staff_member, forum=forum, user=learner, kind="ban", days=1, reason="Abuse")
    verdict = rules.check_can_read(learner, forum)
    assert not verdict and verdict.code == "banned" and "Abuse" in verdict.message


def test_a_sanction_ends_by_itself_or_when_lifted(forum, ask, learner, staff_member):
    sanction = services.sanction_create(actor=staff_member, forum=forum, user=learner, kind="mute", days=2, reason="x")
    later = timezone.now() + datetime.timedelta(days=2, minutes=1)
    assert rules.check_can_post(learner, forum, now=later)
    services.sanction_lift(actor=staff_member, sanction=sanction, forum=forum)
    assert rules.check_can_post(learner, forum)


def test_moderators_cannot_be_sanctioned_and_learners_cannot_sanction(forum, learner, other, mentor):
    with pytest.raises(ForumError, match="cannot be muted"):
        services.sanction_create(
            actor=mentor, forum=forum, user=UserFactory(is_staff=True), kind="ban", days=1, reason="x"
        )
    with pytest.raises(ForumError, match="Only staff and mentors"):
        services.sanction_create(actor=learner, forum=forum, user=other, kind=SanctionKind.MUTE, days=1, reason="x")


def test_posting_rate_limit_counts_stored_posts(forum, ask, learner, settings):
    settings.FORUM_RATE_LIMITS = {"thread": (2, 3600), "post": (100, 3600)}
    ask(title="First question of the hour")
    ask(title="Second question of the hour")
    with pytest.raises(ForumError, match="limit of 2 new threads in 1 hour"):
        ask(title="Third question of the hour")
    later = timezone.now() + datetime.timedelta(hours=1, minutes=1)
    services.thread_create(author=learner, forum=forum, title="A question an hour later", body="ok", now=later)


def test_moderators_are_not_rate_limited(forum, staff_member, settings):
    settings.FORUM_RATE_LIMITS = {"thread": (1, 3600)}
    for n in range(3):
        services.thread_create(author=staff_member, forum=forum, title=f"Announcement number {n}", body="Hi")


# ---- the trust step -----------------------------------------------------------------------------


def test_new_members_posts_are_held_until_approved_then_trusted_after_k_posts_and_d_days(forum, staff_member, settings):
    settings.FORUM_TRUST_APPROVED_POSTS = 2
    settings.FORUM_TRUST_MIN_DAYS = 2
    rookie = newcomer()
    first = services.thread_create(author=rookie, forum=forum, title="My very first question", body="Hi")
    assert first.state == Visibility.PENDING
    assert not rules.can_see_thread(member(), first) and rules.can_see_thread(rookie, first)
    services.post_approve(actor=staff_member, post=first.posts.get())
    first.refresh_from_db()
    assert first.state == Visibility.VISIBLE
    second = services.thread_create(author=rookie, forum=forum, title="My second question here", body="Hi")
    services.post_approve(actor=staff_member, post=second.posts.get())
    # Two approved posts, but the account is a day old: still held.
    third = services.thread_create(author=rookie, forum=forum, title="My third question already", body="Hi")
    assert third.state == Visibility.PENDING
    in_three_days = timezone.now() + datetime.timedelta(days=3)
    fourth = services.thread_create(
        author=rookie, forum=forum, title="A question three days later", body="Hi", now=in_three_days
    )
    assert fourth.state == Visibility.VISIBLE


def test_a_rejected_held_post_never_appears_and_says_why(forum, staff_member):
    rookie = newcomer()
    thread = services.thread_create(author=rookie, forum=forum, title="Buy cheap essays here now", body="spam")
    with pytest.raises(ForumError, match="Say why"):
        services.post_reject(actor=staff_member, post=thread.posts.get(), reason="")
    services.post_reject(actor=staff_member, post=thread.posts.get(), reason="Advertising")
    thread.refresh_from_db()
    assert thread.state == Visibility.DELETED and thread.posts.get().hidden_reason == "Advertising"


def test_trusting_a_member_lets_their_posts_through(forum, staff_member):
    rookie = newcomer()
    services.member_trust(actor=staff_member, forum=forum, user=rookie)
    thread = services.thread_create(author=rookie, forum=forum, title="Now trusted, posting at once", body="Hi")
    assert thread.state == Visibility.VISIBLE
    assert Profile.objects.get(user=rookie).trusted_at


# ---- replies, comments, edits, deletion ----------------------------------------------------------


def test_replies_and_one_level_of_comments(ask, other, learner):
    thread = ask()
    reply = services.reply_create(author=other, thread=thread, body="Lower the learning rate.")
    comment = services.comment_create(author=learner, reply=reply, body="Thanks, which value?")
    answer = services.comment_create(author=other, reply=comment, body="Try 0.01.")  # under the same reply
    assert comment.parent == reply and answer.parent == reply and answer.kind == PostKind.COMMENT
    with pytest.raises(ForumError, match="Comments go under replies"):
        services.comment_create(author=other, reply=thread.posts.get(kind="opening"), body="Hi")
    thread.refresh_from_db()
    assert thread.reply_count == 3
    assert thread.first_response_at == reply.published_at


def test_the_asker_follows_and_repliers_follow_their_threads(ask, learner, other):
    thread = ask()
    services.reply_create(author=other, thread=thread, body="An answer")
    assert set(Follow.objects.filter(thread=thread).values_list("user_id", flat=True)) == {learner.pk, other.pk}


def test_the_asker_replying_is_not_a_first_response(ask, learner):
    thread = ask()
    services.reply_create(author=learner, thread=thread, body="Bump: any idea?")
    thread.refresh_from_db()
    assert thread.first_response_at is None


def test_edits_keep_history_and_moderators_must_give_a_reason(ask, learner, mentor):
    thread = ask(title="Original question title", body="First words")
    opening = thread.posts.get()
    services.post_edit(editor=learner, post=opening, body="Better words", title="A clearer question title")
    with pytest.raises(ForumError, match="Say why"):
        services.post_edit(editor=mentor, post=opening, body="Moderated words")
    services.post_edit(editor=mentor, post=opening, body="Moderated words", reason="Removed a full solution")
    revisions = list(PostRevision.objects.filter(post=opening).order_by("edited_at", "id"))
    assert [(r.body, r.title, r.by_moderator, r.reason) for r in revisions] == [
        ("First words", "Original question title", False, ""),
        ("Better words", "A clearer question title", True, "Removed a full solution"),
    ]
    thread.refresh_from_db()
    assert thread.title == "A clearer question title"


def test_only_the_author_or_a_moderator_edits(ask, other):
    opening = ask().posts.get()
    with pytest.raises(ForumError, match="Only its author or a moderator"):
        services.post_edit(editor=other, post=opening, body="Vandalised")
    assert Post.objects.get(pk=opening.pk).body == "My cost increases."


def test_authors_soft_delete_and_the_row_stays(ask, other):
    thread = ask()
    reply = services.reply_create(author=other, thread=thread, body="Wrong answer")
    services.post_delete(actor=other, post=reply)
    reply.refresh_from_db()
    thread.refresh_from_db()
    assert reply.state == Visibility.DELETED and Post.objects.filter(pk=reply.pk).exists()
    assert thread.reply_count == 0


def test_deleting_the_opening_post_deletes_the_thread(ask, learner):
    thread = ask()
    services.post_delete(actor=learner, post=thread.posts.get())
    thread.refresh_from_db()
    assert thread.state == Visibility.DELETED


def test_moderators_hide_with_a_reason_and_show_again(ask, other, mentor):
    reply = services.reply_create(author=other, thread=ask(), body="Off-topic rant")
    with pytest.raises(ForumError, match="Say why"):
        services.post_hide(actor=mentor, post=reply, reason=" ")
    services.post_hide(actor=mentor, post=reply, reason="Off topic")
    assert Post.objects.get(pk=reply.pk).state == Visibility.HIDDEN
    services.post_unhide(actor=mentor, post=reply)
    assert Post.objects.get(pk=reply.pk).state == Visibility.VISIBLE


# ---- votes, accepted and endorsed answers --------------------------------------------------------


def test_one_vote_per_member_stored_as_rows_and_counted(ask, learner, other):
    thread = ask()
    opening = thread.posts.get()
    third = member()
    assert services.vote_toggle(user=other, post=opening) is True
    assert services.vote_toggle(user=third, post=opening) is True
    assert services.vote_toggle(user=other, post=opening) is False  # taken back
    assert services.vote_toggle(user=other, post=opening) is True
    thread.refresh_from_db()
    assert (
        Vote.objects.filter(post=opening).count()
        == 2
        == thread.vote_score
        == Post.objects.get(pk=opening.pk).vote_score
    )
    with pytest.raises(ForumError, match="your own post"):
        services.vote_toggle(user=learner, post=opening)


def test_expired_members_cannot_vote(ask):
    opening = ask().posts.get()
    expired = SubscriptionFactory(status="canceled", ended_at=NOW - datetime.timedelta(days=1)).user
    with pytest.raises(ForumError, match="still read"):
        services.vote_toggle(user=expired, post=opening)


def test_the_asker_accepts_one_answer_and_can_move_it(ask, learner, other):
    thread = ask()
    first = services.reply_create(author=other, thread=thread, body="Answer one")
    second = services.reply_create(author=member(), thread=thread, body="Answer two")
    with pytest.raises(ForumError, match="Only the person who asked"):
        services.answer_accept(actor=other, post=second)
    assert services.answer_accept(actor=learner, post=first) is True
    assert services.answer_accept(actor=learner, post=second) is True
    thread.refresh_from_db()
    first.refresh_from_db()
    assert thread.accepted_post_id == second.pk and first.accepted_at is None
    assert thread.answered_at is not None


def test_mentors_accept_and_endorse_but_learners_do_not_endorse(ask, other, mentor):
    thread = ask()
    reply = services.reply_create(author=other, thread=thread, body="Answer")
    with pytest.raises(ForumError, match="Only staff and mentors"):
        services.answer_endorse(actor=member(), post=reply)
    assert services.answer_endorse(actor=mentor, post=reply) is True
    assert services.answer_accept(actor=mentor, post=reply) is True
    thread.refresh_from_db()
    assert thread.has_endorsed and thread.accepted_post_id == reply.pk


def test_discussions_have_no_accepted_answer(ask, learner, other):
    thread = ask(kind=ThreadKind.DISCUSSION)
    reply = services.reply_create(author=other, thread=thread, body="I agree")
    with pytest.raises(ForumError, match="Only answers to questions"):
        services.answer_accept(actor=learner, post=reply)


# ---- flags --------------------------------------------------------------------------------------


def test_flags_hide_a_post_after_n_flags_pending_review(ask, other, settings):
    settings.FORUM_AUTO_HIDE_FLAGS = 2
    reply = services.reply_create(author=other, thread=ask(), body="Rude words")
    services.flag_create(flagger=member(), post=reply, reason="abuse")
    assert Post.objects.get(pk=reply.pk).state == Visibility.VISIBLE
    services.flag_create(flagger=member(), post=reply, reason="abuse")
    reply.refresh_from_db()
    assert reply.state == Visibility.HIDDEN and reply.hidden_reason.startswith("Hidden pending review")


def test_one_honour_code_flag_hides_a_pasted_solution(ask, other):
    reply = services.reply_create(author=other, thread=ask(), body="```python\ndef propagate(w, b, X, Y): ...\n```")
    services.flag_create(flagger=member(), post=reply, reason="graded_solution")
    reply.refresh_from_db()
    assert reply.state == Visibility.HIDDEN and "honour code" in reply.hidden_reason


def test_dismissing_flags_shows_the_post_again_and_upholding_keeps_it_hidden(ask, other, mentor, settings):
    settings.FORUM_AUTO_HIDE_FLAGS = 1
    reply = services.reply_create(author=other, thread=ask(), body="Borderline")
    services.flag_create(flagger=member(), post=reply, reason="off_topic")
    services.flags_resolve(actor=mentor, post=reply, uphold=False)
    assert Post.objects.get(pk=reply.pk).state == Visibility.VISIBLE
    services.flag_create(flagger=member(), post=reply, reason="spam")
    services.flags_resolve(actor=mentor, post=reply, uphold=True)
    reply.refresh_from_db()
    assert reply.state == Visibility.HIDDEN and "Spam" in reply.hidden_reason
    assert not Flag.objects.filter(post=reply, status="open").exists()


def test_flag_rules(ask, learner, other):
    opening = ask().posts.get()
    with pytest.raises(ForumError, match="your own post"):
        services.flag_create(flagger=learner, post=opening, reason="spam")
    with pytest.raises(ForumError, match="Tell the moderators"):
        services.flag_create(flagger=other, post=opening, reason="other")
    services.flag_create(flagger=other, post=opening, reason="spam")
    with pytest.raises(ForumError, match="already flagged"):
        services.flag_create(flagger=other, post=opening, reason="abuse")


# ---- staff tools: pin, close, move, duplicates, merge --------------------------------------------


def test_a_closed_thread_takes_no_replies_but_a_moderator_may_add_a_note(ask, other, mentor):
    thread = ask()
    with pytest.raises(ForumError, match="Say why"):
        services.thread_close(actor=mentor, thread=thread, reason="")
    services.thread_close(actor=mentor, thread=thread, reason="Answered in the pinned FAQ")
    with pytest.raises(ForumError, match="closed: Answered in the pinned FAQ"):
        services.reply_create(author=other, thread=thread, body="Me too")
    services.reply_create(author=mentor, thread=thread, body="See the FAQ.")
    services.thread_reopen(actor=mentor, thread=thread)
    services.reply_create(author=other, thread=thread, body="Me too")


def test_marking_a_duplicate_links_the_original_and_stops_replies(ask, other, mentor):
    original = ask(title="Cost goes up after a few iterations")
    copy = ask(title="Why is my cost increasing during training?")
    services.thread_mark_duplicate(actor=mentor, thread=copy, original=original)
    copy.refresh_from_db()
    assert copy.duplicate_of == original and copy.marked_duplicate_at
    with pytest.raises(ForumError, match="duplicate of another one"):
        services.reply_create(author=other, thread=copy, body="Same here")
    third = ask(title="Cost increasing with every epoch")
    services.thread_mark_duplicate(actor=mentor, thread=third, original=copy)  # points at the root
    third.refresh_from_db()
    assert third.duplicate_of == original
    with pytest.raises(ForumError, match="cannot duplicate itself"):
        services.thread_mark_duplicate(actor=mentor, thread=original, original=original)


def test_merging_moves_posts_votes_and_followers(ask, learner, other, mentor):
    target = ask(title="Cost goes up after a few iterations")
    source = services.thread_create(author=other, forum=target.forum, title="Cost increasing, help!", body="Same")
    reply = services.reply_create(author=member(), thread=source, body="Lower alpha")
    services.vote_toggle(user=learner, post=reply)
    services.thread_merge(actor=mentor, source=source, target=target)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into == target and source.is_closed
    assert set(target.posts.values_list("kind", flat=True)) == {"opening", "reply"}
    assert target.posts.filter(kind="reply").count() == 2  # the source's question and its answer
    assert Post.objects.get(pk=reply.pk).vote_score == 1
    assert Follow.objects.filter(thread=target, user=other).exists()
    assert target.reply_count == 2 and target.first_response_at is not None


def test_moving_a_thread_changes_its_topic_and_week(ask, forum, mentor):
    thread = ask()
    week2 = Topic.objects.get(forum=forum, slug="week-2")
    services.thread_move(actor=mentor, thread=thread, topic=week2)
    thread.refresh_from_db()
    assert thread.topic == week2 and thread.week_number == 2


def test_learners_cannot_use_staff_tools(ask, other):
    thread = ask()
    for action in (
        lambda: services.thread_pin(actor=other, thread=thread, pinned=True),
        lambda: services.thread_close(actor=other, thread=thread, reason="x"),
        lambda: services.thread_mark_duplicate(actor=other, thread=thread, original=ask(title="Another question here")),
    ):
        with pytest.raises(ForumError, match="Only staff and mentors"):
            action()
    thread.refresh_from_db()
    assert not thread.is_pinned and not thread.is_closed


def test_posts_render_again_after_a_renderer_change(ask, capsys):
    from django.core.management import call_command

    opening = ask(body="```python\nx = 1\n```").posts.get()
    Post.objects.filter(pk=opening.pk).update(body_html="<p>stale</p>")
    call_command("forum_rerender")
    assert '<pre tabindex="0">' in Post.objects.get(pk=opening.pk).body_html
    call_command("forum_rerender")
    assert "0 changed of 1" in capsys.readouterr().out
