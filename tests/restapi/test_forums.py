"""Forum threads and posts through the API: the same rules as the pages (access, holding, anonymity,
closed threads, rate limits), cursor pages, idempotent posting."""

import uuid

import pytest

from forums import services
from forums.models import Post, Thread, Visibility
from tests.factories import UserFactory
from tests.forums import conftest as forum_fixtures
from tests.forums.conftest import member, newcomer
from tests.restapi.conftest import client_for, error_of, make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(db):
    """The forum tests' course: two weeks, a lecture each, an assignment in week 2."""
    return forum_fixtures.course.__wrapped__(db)


@pytest.fixture
def forum(course):
    return services.forum_ensure(course_id=course.pk)


@pytest.fixture
def learner(db):
    return member()


@pytest.fixture
def staff_member(db):
    return UserFactory(is_staff=True)


def threads_url(course):
    return f"/api/v1/courses/{course.slug}/threads/"


def test_a_member_asks_a_question_and_reads_it_back(course, forum, learner):
    client = client_for(learner)
    response = client.post(
        threads_url(course),
        {"title": "Why does my cost go up?", "body": "After 100 steps `J` grows.", "week": 2},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["title"], body["week"], body["state"], body["kind"]) == (
        "Why does my cost go up?",
        2,
        "visible",
        "question",
    )
    assert response["Location"].endswith(f"/api/v1/threads/{body['id']}/")
    listed = client.get(threads_url(course)).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    posts = client.get(f"/api/v1/threads/{body['id']}/posts/").json()["results"]
    assert [(p["kind"], p["body"]) for p in posts] == [("opening", "After 100 steps `J` grows.")]
    assert "<code>J</code>" in posts[0]["body_html"]


def test_a_newcomers_thread_is_held_and_others_do_not_see_it(course, forum):
    author = newcomer()
    response = client_for(author).post(
        threads_url(course), {"title": "Is this held for review?", "body": "First post"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["state"] == "pending"
    assert client_for(member()).get(threads_url(course)).json()["results"] == []
    hidden = client_for(member()).get(f"/api/v1/threads/{response.json()['id']}/")
    assert hidden.status_code == 404
    assert error_of(hidden)["code"] == "not_found"


@pytest.mark.parametrize(("state", "reason"), [("registered", "needs_subscription"), ("expired", "access_ended")])
def test_posting_asks_the_access_module(course, forum, state, reason):
    response = client_for(make_learner(state)).post(threads_url(course), {"title": "Hi", "body": "x"}, format="json")
    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["reason"]) == ("access_denied", reason)
    assert not Thread.objects.exists()


def test_anonymous_posts_hide_the_author_from_learners_not_from_staff(course, forum, learner):
    created = client_for(learner).post(
        threads_url(course), {"title": "Shy question", "body": "Is it me?", "anonymous": True}, format="json"
    )
    thread_id = created.json()["id"]
    peer_view = client_for(member()).get(f"/api/v1/threads/{thread_id}/").json()
    assert peer_view["author"] == "Anonymous learner"
    assert learner.email.split("@")[0] not in str(client_for(member()).get(threads_url(course)).json())
    staff_view = client_for(UserFactory(is_staff=True)).get(f"/api/v1/threads/{thread_id}/").json()
    assert staff_view["author"] != "Anonymous learner"


def test_replies_and_comments_are_posted_and_paged_with_a_cursor(course, forum, learner):
    thread = services.thread_create(author=learner, forum=forum, title="Paging through replies", body="Opening")
    other = member()
    client = client_for(other)
    first = client.post(f"/api/v1/threads/{thread.pk}/posts/", {"body": "A reply"}, format="json")
    assert first.status_code == 201, first.json()
    comment = client.post(
        f"/api/v1/threads/{thread.pk}/posts/", {"body": "A comment", "parent": first.json()["id"]}, format="json"
    )
    assert comment.status_code == 201
    assert (comment.json()["kind"], comment.json()["parent"]) == ("comment", first.json()["id"])
    for n in range(3):
        client.post(f"/api/v1/threads/{thread.pk}/posts/", {"body": f"Reply {n}"}, format="json")
    seen, url = [], f"/api/v1/threads/{thread.pk}/posts/?page_size=2"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.json()
        assert len(page["results"]) <= 2
        seen += [row["body"] for row in page["results"]]
        if page["next"]:
            assert 'rel="next"' in response["Link"]
        url = page["next"]
    assert seen == ["Opening", "A reply", "A comment", "Reply 0", "Reply 1", "Reply 2"]


def test_a_retried_post_with_the_same_key_posts_once(course, forum, learner):
    thread = services.thread_create(author=learner, forum=forum, title="Retrying a post", body="Opening")
    client = client_for(member())
    key = str(uuid.uuid4())
    url = f"/api/v1/threads/{thread.pk}/posts/"
    first = client.post(url, {"body": "Only once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(url, {"body": "Only once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Post.objects.filter(body="Only once").count() == 1


def test_a_closed_or_duplicate_thread_refuses_replies_with_the_pages_sentence(course, forum, learner, staff_member):
    original = services.thread_create(
        author=learner, forum=forum, title="The original question", body="Some details about it."
    )
    copy = services.thread_create(
        author=member(), forum=forum, title="A copy of the question", body="Some details about it."
    )
    services.thread_mark_duplicate(actor=staff_member, thread=copy, original=original)
    response = client_for(member()).post(
        f"/api/v1/threads/{copy.pk}/posts/", {"body": "Another answer here."}, format="json"
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "duplicate"
    assert "duplicate" in error["message"]


def test_bad_input_changes_nothing(course, forum, learner):
    client = client_for(learner)
    assert client.post(threads_url(course), {"title": "", "body": "x"}, format="json").status_code == 400
    assert (
        client.post(
            threads_url(course), {"title": "A week that is not there", "body": "x", "week": 9}, format="json"
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/courses/nope/threads/", {"title": "A course that is not there", "body": "x"}, format="json"
        ).status_code
        == 404
    )
    assert client.get("/api/v1/threads/999999/posts/").status_code == 404
    assert not Thread.objects.exists()


def test_filters_and_a_moderators_view(course, forum, learner, staff_member):
    answered = services.thread_create(
        author=learner, forum=forum, title="An answered question", body="Some details about it.", topic=None
    )
    services.thread_create(author=learner, forum=forum, title="An open question", body="Some details about it.")
    reply = services.reply_create(author=member(), thread=answered, body="Here")
    services.answer_accept(actor=learner, post=reply)
    hidden = services.thread_create(
        author=member(), forum=forum, title="A hidden question", body="Some details about it."
    )
    services.post_hide(actor=staff_member, post=hidden.posts.get(), reason="spam")
    Thread.objects.filter(pk=hidden.pk).update(state=Visibility.HIDDEN)
    titles = [r["title"] for r in client_for(learner).get(threads_url(course) + "?unanswered=true").json()["results"]]
    assert titles == ["An open question"]
    staff_titles = {r["title"] for r in client_for(staff_member).get(threads_url(course)).json()["results"]}
    assert staff_titles == {"An answered question", "An open question", "A hidden question"}


def test_a_list_costs_a_fixed_number_of_queries(course, forum, learner, django_assert_max_num_queries):
    for n in range(5):
        services.thread_create(
            author=member(), forum=forum, title=f"Question number {n}", body="Some details about it."
        )
    client = client_for(learner)
    client.get(threads_url(course))  # warm caches (token, roles)
    with django_assert_max_num_queries(25):
        assert len(client.get(threads_url(course) + "?page_size=5").json()["results"]) == 5


def test_the_forums_own_rate_limit_is_a_429_with_retry_after(course, forum, learner, settings):
    settings.FORUM_RATE_LIMITS = {**settings.FORUM_RATE_LIMITS, "thread": (1, 3600)}
    client = client_for(learner)
    first = client.post(threads_url(course), {"title": "My first question", "body": "Details."}, format="json")
    assert first.status_code == 201
    second = client.post(threads_url(course), {"title": "My second question", "body": "Details."}, format="json")
    assert second.status_code == 429
    assert error_of(second)["code"] == "rate_limited"
    assert 3500 <= int(second["Retry-After"]) <= 3600
    assert Thread.objects.count() == 1
