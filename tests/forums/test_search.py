"""Search and similar questions on PostgreSQL: the stored weighted tsvector kept current on every save,
websearch syntax, ranking, headlines for the page only, filters, the trigram-corrected retry, and the
suggestion box. A few checks of the SQLite fallback's functions run without a database."""

import pytest
from django.db import connection

from forums import search, selectors, services
from forums.models import Thread

from .conftest import member, newcomer

pytestmark = pytest.mark.django_db


def _search(viewer, forum, course, q, **filters):
    page = selectors.forum_page(
        viewer=viewer, forum=forum, course=course, topic=None, filters=selectors.ListFilters(q=q, **filters)
    )
    return page


def _titles(page):
    return [row.thread.title for row in page.rows]


def test_the_index_is_a_gin_index_on_a_stored_weighted_vector(forum, ask):
    ask(title="Broadcasting error in numpy", body="The shapes do not match")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'forums_thread_search'")
        assert "USING gin (search_vector)" in cursor.fetchone()[0]
        cursor.execute("SELECT search_vector::text FROM forums_thread")
        vector = cursor.fetchone()[0]
    assert "'broadcast':1A" in vector and "'shape':6B" in vector


def test_title_matches_rank_above_body_matches_and_replies_are_found(forum, ask, learner, other, course):
    body_only = ask(title="Question about my notebook cells", body="dropout keeps the cost high")
    in_title = ask(title="Dropout makes my cost noisy", body="Any idea?")
    in_reply = ask(title="Regularisation choices for my network", body="Which one?")
    services.reply_create(author=other, thread=in_reply, body="Use dropout with keep_prob 0.8")
    page = _search(learner, forum, course, "dropout")
    assert _titles(page)[0] == in_title.title
    assert set(_titles(page)) == {body_only.title, in_title.title, in_reply.title}


def test_websearch_syntax_phrases_and_exclusions(forum, ask, learner, course):
    ask(title="Learning rate decay schedule", body="How fast?")
    ask(title="Rate of learning is slow for me", body="Videos are long.")
    assert _titles(_search(learner, forum, course, '"learning rate"')) == ["Learning rate decay schedule"]
    assert _titles(_search(learner, forum, course, "learning -decay")) == ["Rate of learning is slow for me"]


def test_edits_are_indexed_at_once(forum, ask, learner, course):
    thread = ask(title="Something about my homework", body="nothing")
    assert not _search(learner, forum, course, "softmax").rows
    services.post_edit(editor=learner, post=thread.posts.get(), body="softmax overflows")
    assert _titles(_search(learner, forum, course, "softmax")) == [thread.title]


def test_headlines_mark_matches_and_escape_what_learners_typed(forum, ask, learner, course):
    ask(title="<b>Dropout</b> & <script>x</script>", body="I use dropout <img src=x onerror=alert(1)> here")
    row = _search(learner, forum, course, "dropout").rows[0]
    assert "<mark>Dropout</mark>" in row.title_html
    assert "&lt;script&gt;" in row.title_html and "<script" not in row.title_html
    assert "<mark>dropout</mark>" in row.snippet_html and "<img" not in row.snippet_html


def test_search_honours_filters_and_hides_what_the_reader_may_not_see(forum, ask, learner, other, course, staff_member):
    week2 = course.items.get(slug="vectorization")
    mine = ask(title="Vectorization speed question", item_id=week2.pk)
    theirs = services.thread_create(author=other, forum=forum, title="Vectorization in week one", body="Details.")
    hidden = services.thread_create(author=other, forum=forum, title="Vectorization spam post", body="Details.")
    services.post_hide(actor=staff_member, post=hidden.posts.get(), reason="Spam")
    assert set(_titles(_search(learner, forum, course, "vectorization"))) == {mine.title, theirs.title}
    assert _titles(_search(learner, forum, course, "vectorization", week=2)) == [mine.title]
    assert _titles(_search(learner, forum, course, "vectorization", mine=True)) == [mine.title]
    services.reply_create(author=learner, thread=theirs, body="answer")
    assert _titles(_search(learner, forum, course, "vectorization", unanswered=True)) == [mine.title]
    # The author still finds their own hidden thread (with its reason on the page); others do not.
    assert set(_titles(_search(other, forum, course, "vectorization", following=True))) == {theirs.title, hidden.title}


def test_only_a_bounded_candidate_set_is_ranked(forum, ask, learner, course, settings):
    settings.FORUM_SEARCH_CANDIDATES = 3
    for n in range(5):
        ask(title=f"Gradient question number {n}", author=member())
    page = _search(learner, forum, course, "gradient")
    assert page.search.total == 3 and page.search.capped and len(page.rows) == 3


def test_a_misspelt_search_is_retried_with_a_corrected_query(forum, ask, learner, course):
    ask(title="Backpropagation through the softmax layer", body="derivative")
    page = _search(learner, forum, course, "backpropagaton sofmax")
    assert page.search.corrected_from == "backpropagaton sofmax"
    assert page.search.query == "backpropagation softmax"
    assert _titles(page) == ["Backpropagation through the softmax layer"]


def test_a_search_with_no_match_and_nothing_to_correct_says_so(forum, ask, learner, course):
    ask()
    page = _search(learner, forum, course, "zzyzx")
    assert page.rows == [] and page.search.total == 0 and page.search.corrected_from is None


# ---- similar questions --------------------------------------------------------------------------


def test_similar_questions_finds_a_paraphrase_and_ignores_unrelated_threads(forum, ask, learner):
    original = ask(
        title="Why do we initialise the weights randomly instead of with zeros?",
        body="If all weights start at zero the hidden units stay the same.",
    )
    ask(title="Cat classifier accuracy stuck at 50 percent", body="Test accuracy.")
    found = selectors.similar_for(viewer=learner, forum=forum, title="What goes wrong if all weights start at zero?")
    assert [pk for pk, _ in found][:1] == [original.pk]
    assert all(0 < score <= 1 for _, score in found)
    assert selectors.similar_for(viewer=learner, forum=forum, title="How do I change my e-mail address?") == []


def test_similar_questions_are_best_first_and_at_most_limit(forum, ask, learner):
    for n in range(8):
        ask(title=f"Dropout keep_prob question {n}", author=member())
    found = selectors.similar_for(viewer=learner, forum=forum, title="dropout keep_prob", limit=5)
    assert len(found) == 5
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)


def test_similar_questions_only_offer_threads_the_reader_may_open(forum, ask, learner, other, staff_member):
    hidden = services.thread_create(
        author=other, forum=forum, title="Dropout keep_prob scaling question", body="Details."
    )
    services.post_hide(actor=staff_member, post=hidden.posts.get(), reason="Spam")
    held = services.thread_create(author=newcomer(), forum=forum, title="Dropout keep_prob scaling", body="Details.")
    assert held.state == "pending"
    original = ask(title="Dropout keep_prob scaling at test time")
    duplicate = ask(title="Dropout keep_prob scaling at test time?", author=other)
    services.thread_mark_duplicate(actor=staff_member, thread=duplicate, original=original)
    found = [pk for pk, _ in selectors.similar_for(viewer=learner, forum=forum, title="dropout keep_prob scaling")]
    assert found == [original.pk]


def test_similar_questions_stay_in_the_course_forum(forum, ask, learner):
    from tests.factories import CourseFactory

    elsewhere = services.forum_ensure(course_id=CourseFactory().pk)
    services.thread_create(author=learner, forum=elsewhere, title="Dropout keep_prob at test time", body="Details.")
    assert selectors.similar_for(viewer=learner, forum=forum, title="Dropout keep_prob at test time") == []


def test_pythons_trigram_similarity_matches_pg_trgm():
    pairs = [("dropout at test time", "dropout during testing"), ("word", "word"), ("abc", "xyz")]
    with connection.cursor() as cursor:
        for a, b in pairs:
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            assert search.trigram_similarity(a, b) == pytest.approx(cursor.fetchone()[0], abs=1e-6)


def test_thread_counts_stay_in_step_with_the_index(forum, ask, other):
    thread = ask(title="Indexed once and kept current", body="first")
    services.reply_create(author=other, thread=thread, body="zebra")
    assert Thread.objects.filter(pk=thread.pk, search_vector__isnull=False).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_vector @@ to_tsquery('english', 'zebra') FROM forums_thread WHERE id = %s", [thread.pk]
        )
        assert cursor.fetchone()[0] is True
