"""The forum pages as a member sees them: asking, answering, anonymity in every page and fragment, the
staff pages, and a fixed number of queries per thread page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forums import services
from forums.models import Post, Thread, Visibility
from tests.factories import UserFactory

from .conftest import member

pytestmark = pytest.mark.django_db


def test_asking_a_question_from_the_page(client, forum, learner, course):
    client.force_login(learner)
    page = client.get(f"/forums/{course.slug}/ask/")
    assert page.status_code == 200 and b"Similar questions appear below as you type" in page.content
    response = client.post(
        f"/forums/{course.slug}/ask/",
        {
            "title": "Why does my cost go up?",
            "body": "It rises after `100` steps",
            "topic": "week-1",
            "kind": "question",
        },
    )
    thread = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == thread.get_absolute_url()
    assert thread.topic.slug == "week-1" and thread.author == learner
    assert b"<code>100</code>" in client.get(thread.get_absolute_url()).content


def test_a_refused_question_keeps_what_was_typed(client, forum, learner, course):
    client.force_login(learner)
    response = client.post(f"/forums/{course.slug}/ask/", {"title": "Help", "body": "My long description"})
    assert response.status_code == 400
    assert b"at least 10 characters" in response.content and b"My long description" in response.content
    assert not Thread.objects.exists()


def test_a_learner_without_a_subscription_reads_but_is_told_why_they_cannot_post(client, forum, ask, course):
    thread = ask()
    reader = UserFactory()
    client.force_login(reader)
    assert client.get(thread.get_absolute_url()).status_code == 200
    page = client.get(f"/forums/{course.slug}/ask/")
    assert page.status_code == 403 and b"Start your free trial to post in the forums." in page.content
    response = client.post(f"/forums/t/{thread.pk}/reply/", {"body": "Me too"})
    assert response.status_code == 302 and not Post.objects.filter(kind="reply").exists()


def test_visitors_are_asked_to_log_in(client, forum, ask, course):
    thread = ask()
    response = client.get(thread.get_absolute_url())
    assert response.status_code == 403 and b"Log in to read the course forums." in response.content


def test_the_suggestion_box_fragment(client, forum, ask, learner, course):
    original = ask(title="Why do we initialise the weights randomly instead of with zeros?")
    client.force_login(member())
    response = client.get(
        f"/forums/{course.slug}/similar/",
        {"title": "What goes wrong if all weights start at zero?"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'data-suggestion="{original.pk}"'.encode() in response.content
    assert b"<html" not in response.content  # a fragment for htmx
    empty = client.get(f"/forums/{course.slug}/similar/", {"title": "How do I change my e-mail address?"})
    assert b"data-suggestion" not in empty.content


def test_voting_with_htmx_returns_the_widget(client, ask, other):
    opening = ask().posts.get()
    client.force_login(other)
    response = client.post(f"/forums/p/{opening.pk}/vote/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b'aria-pressed="true"' in response.content
    assert b'data-vote-count aria-label="1 vote"' in response.content


def test_accepted_then_endorsed_answers_float_to_the_top(client, ask, learner, mentor):
    thread = ask()
    first = services.reply_create(author=member(), thread=thread, body="First answer")
    voted = services.reply_create(author=member(), thread=thread, body="Voted answer")
    endorsed = services.reply_create(author=member(), thread=thread, body="Endorsed answer")
    accepted = services.reply_create(author=member(), thread=thread, body="Accepted answer")
    services.vote_toggle(user=member(), post=voted)
    services.answer_endorse(actor=mentor, post=endorsed)
    services.answer_accept(actor=learner, post=accepted)
    client.force_login(learner)
    html = client.get(thread.get_absolute_url()).content.decode()
    order = [html.index(f'id="post-{p.pk}"') for p in (accepted, endorsed, voted, first)]
    assert order == sorted(order)


# ---- anonymity ----------------------------------------------------------------------------------


def test_an_anonymous_post_is_anonymous_to_learners_and_mentors_and_named_to_staff(
    client, forum, learner, other, mentor, staff_member, course
):
    learner.name = "Ada Lovelace"
    learner.save()
    thread = services.thread_create(
        author=learner, forum=forum, title="Embarrassing question about numpy", body="Be kind", anonymous=True
    )
    reply = services.reply_create(author=other, thread=thread, body="No worries")
    services.comment_create(author=learner, reply=reply, body="Thanks again", anonymous=True)
    pages = [
        thread.get_absolute_url(),
        f"/forums/{course.slug}/",
        f"/forums/{course.slug}/?q=numpy",
        f"/forums/{course.slug}/topics/general/",
    ]
    for viewer in (other, mentor):
        client.force_login(viewer)
        for url in pages:
            content = client.get(url).content.decode()
            assert "Ada Lovelace" not in content and learner.email not in content, (viewer, url)
            assert "Anonymous learner" in content
    client.force_login(mentor)
    for url in (f"/forums/{course.slug}/staff/", f"/forums/{course.slug}/review/"):
        assert "Ada Lovelace" not in client.get(url).content.decode()
    client.force_login(staff_member)
    content = client.get(thread.get_absolute_url()).content.decode()
    assert "Ada Lovelace" in content and "anonymous to learners" in content
    client.force_login(learner)
    assert "(you)" in client.get(thread.get_absolute_url()).content.decode()


def test_an_anonymous_authors_edit_history_stays_anonymous(client, forum, learner, other):
    learner.name = "Ada Lovelace"
    learner.save()
    thread = services.thread_create(
        author=learner, forum=forum, title="Anonymous and edited", body="v1", anonymous=True
    )
    services.post_edit(editor=learner, post=thread.posts.get(), body="v2")
    client.force_login(other)
    content = client.get(f"/forums/p/{thread.posts.get().pk}/history/").content.decode()
    assert "Ada Lovelace" not in content and "Anonymous learner" in content


# ---- held, hidden and deleted posts --------------------------------------------------------------


def test_held_and_hidden_posts_are_shown_to_their_author_with_the_reason_not_to_others(
    client, forum, ask, other, mentor
):
    from .conftest import newcomer

    thread = ask()
    rookie = newcomer()
    held = services.reply_create(author=rookie, thread=thread, body="Held reply text")
    hidden = services.reply_create(author=other, thread=thread, body="Hidden reply text")
    services.post_hide(actor=mentor, post=hidden, reason="Full solution pasted")
    client.force_login(member())
    content = client.get(thread.get_absolute_url()).content.decode()
    assert "Held reply text" not in content and "Hidden reply text" not in content
    client.force_login(rookie)
    assert "Only you and the moderators see it" in client.get(thread.get_absolute_url()).content.decode()
    client.force_login(other)
    assert "Full solution pasted" in client.get(thread.get_absolute_url()).content.decode()
    assert client.get(f"/forums/p/{held.pk}/history/").status_code == 404  # no hint it exists


def test_a_merged_thread_redirects_and_a_duplicate_links_its_original(client, ask, mentor, learner):
    original = ask(title="Original question about costs")
    duplicate = ask(title="Duplicate question about costs")
    merged = ask(title="Merged question about costs")
    services.thread_mark_duplicate(actor=mentor, thread=duplicate, original=original)
    services.thread_merge(actor=mentor, source=merged, target=original)
    client.force_login(learner)
    assert client.get(merged.get_absolute_url())["Location"] == original.get_absolute_url()
    content = client.get(duplicate.get_absolute_url()).content.decode()
    assert "This question has an answer here" in content and original.get_absolute_url() in content
    assert "Your answer" not in content


# ---- staff pages --------------------------------------------------------------------------------


def test_staff_pages_are_for_moderators(client, forum, course, learner, mentor):
    client.force_login(learner)
    for url in (f"/forums/{course.slug}/staff/", f"/forums/{course.slug}/review/"):
        response = client.get(url)
        assert response.status_code == 403 and b"Only staff and mentors moderate the forums." in response.content
    client.force_login(mentor)
    for url in (f"/forums/{course.slug}/staff/", f"/forums/{course.slug}/review/"):
        assert client.get(url).status_code == 200


def test_the_unanswered_queue_lists_waiting_questions_oldest_first(client, forum, ask, mentor, course):
    import datetime

    from django.utils import timezone

    older = ask(title="Older waiting question", now=timezone.now() - datetime.timedelta(hours=30))
    newer = ask(title="Newer waiting question", author=member())
    answered = ask(title="Answered question here", author=member())
    services.reply_create(author=member(), thread=answered, body="Done")
    client.force_login(mentor)
    html = client.get(f"/forums/{course.slug}/staff/").content.decode()
    assert html.index(f'data-queue-row="{older.pk}"') < html.index(f'data-queue-row="{newer.pk}"')
    assert f'data-queue-row="{answered.pk}"' not in html
    assert "<svg" in html and "Time to first reply" in html


def test_moderating_from_the_thread_page(client, ask, mentor):
    thread = ask()
    other_thread = ask(title="The original with the answer")
    client.force_login(mentor)
    client.post(f"/forums/t/{thread.pk}/moderate/", {"action": "pin"})
    client.post(f"/forums/t/{thread.pk}/moderate/", {"action": "duplicate", "other": f"#{other_thread.pk}"})
    thread.refresh_from_db()
    assert thread.is_pinned and thread.duplicate_of == other_thread
    response = client.post(f"/forums/t/{thread.pk}/moderate/", {"action": "merge", "other": "abc"}, follow=True)
    assert b"Give the number of the other thread" in response.content


def test_reviewing_flags_from_the_review_queue(client, ask, other, mentor, course, settings):
    settings.FORUM_AUTO_HIDE_FLAGS = 1
    reply = services.reply_create(author=other, thread=ask(), body="Nasty words")
    client.force_login(member())
    client.post(f"/forums/p/{reply.pk}/flag/", {"reason": "abuse", "note": "insulting"})
    assert Post.objects.get(pk=reply.pk).state == Visibility.HIDDEN
    client.force_login(mentor)
    html = client.get(f"/forums/{course.slug}/review/").content.decode()
    assert f'data-flagged="{reply.pk}"' in html and "insulting" in html
    client.post(f"/forums/p/{reply.pk}/moderate/", {"action": "dismiss", "back": "review"})
    assert Post.objects.get(pk=reply.pk).state == Visibility.VISIBLE


# ---- item pages ---------------------------------------------------------------------------------


def test_item_pages_list_their_questions_unanswered_first(client, forum, ask, course, learner):
    from tests.factories import ReadingFactory

    reading = ReadingFactory(item__week=course.weeks.get(number=1), item__slug="notes", item__title="Notes")
    answered = ask(title="Answered question on the notes", item_id=reading.item.pk)
    services.reply_create(author=member(), thread=answered, body="Here you go")
    waiting = ask(title="Waiting question on the notes", item_id=reading.item.pk, author=member())
    client.force_login(learner)
    html = client.get(reading.item.get_absolute_url()).content.decode()
    assert "Questions about this reading" in html
    assert html.index(waiting.title) < html.index(answered.title)
    assert f"/forums/{course.slug}/ask/?item={reading.item.pk}" in html


def test_thread_page_query_count_does_not_grow_with_replies(client, ask, learner, django_assert_max_num_queries):
    thread = ask()
    client.force_login(learner)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(thread.get_absolute_url()).status_code == 200
        return len(queries)

    services.reply_create(author=member(), thread=thread, body="One")
    few = count()
    for n in range(6):
        reply = services.reply_create(author=member(), thread=thread, body=f"Reply {n}")
        services.comment_create(author=member(), reply=reply, body="A comment")
        services.vote_toggle(user=learner, post=reply)
    assert count() == few


def test_forum_list_query_count_does_not_grow_with_threads(client, forum, ask, learner, course):
    ask()
    client.force_login(learner)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/forums/{course.slug}/").status_code == 200
        return len(queries)

    few = count()
    for n in range(8):
        ask(title=f"Another question number {n}", author=member())
    assert count() == few


def test_the_item_panel_costs_three_queries_and_never_creates_a_forum(client, course, learner):
    from access import api as access
    from courses.models import Item
    from forums import panels
    from forums.models import Forum

    Forum.objects.all().delete()
    # As on an item page: the item comes with its course, and the learner's access facts are read already.
    lecture = Item.objects.select_related("course", "week").get(slug="vectorization")  # as item_page loads it
    access.has_full_access(learner)
    request = type("Request", (), {"user": learner, "path": lecture.get_absolute_url()})()
    with CaptureQueriesContext(connection) as queries:
        html = panels.item_questions_panel(request, lecture)
    assert len(queries) == 3 and "No questions yet" in html
    assert not Forum.objects.exists()


def test_banned_members_see_no_panel_and_visitors_only_public_ones(forum, course, learner, staff_member):
    from django.contrib.auth.models import AnonymousUser

    from courses.models import Item
    from forums import panels

    lecture = Item.objects.get(slug="vectorization")

    def panel(user):
        return panels.item_questions_panel(type("Request", (), {"user": user})(), lecture)

    assert panel(AnonymousUser()) is None
    forum.is_public = True
    forum.save()
    assert "Questions about this lecture" in panel(AnonymousUser())
    services.sanction_create(actor=staff_member, forum=forum, user=learner, kind="ban", days=1, reason="Abuse")
    assert panel(learner) is None
