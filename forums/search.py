"""Forum search behind one module, so another engine could replace it: keeping the index current,
searching, similar questions while a title is typed, and correcting a misspelt query.

PostgreSQL (production, tests): a stored, weighted tsvector per thread (title A, opening post B,
replies and comments C) kept current by `reindex_thread` in the same transaction as every change, with
a GIN index; user input goes through websearch_to_tsquery; only a bounded set of the newest matches is
ranked; ts_headline runs for the rows of one page only. Similar questions: full-text candidates over
titles and the start of the opening posts (their own small tsvector), the best 3 N by rank, re-ranked
by pg_trgm similarity of the titles, kept above a threshold.

SQLite (the embedded default of `make run`): the same functions with a simple fallback (substring
matches, newest first; a Python trigram similarity). Ranking tests run on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import difflib
import html
import re
from collections.abc import Iterable

from django.conf import settings
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramSimilarity,
)
from django.db import connection
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Concat, Left

from .models import Post, PostKind, Thread, Visibility, Word

CONFIG = "english"
# The similar-question box reads the start of the opening post, as a learner skims it.
SIMILAR_BODY_CHARS = 300
# The re-ranking compares the typed title with a candidate's title and the first words of its opening post.
SIMILAR_RERANK_BODY_CHARS = 120
# Replies indexed per thread, at most (a tsvector is capped at 1 MB; a megathread need not be whole).
REPLIES_INDEXED_CHARS = 200_000
HEADLINE_BODY_CHARS = 3000

_MARK_START, _MARK_STOP = "\ue000", "\ue001"  # private-use sentinels, turned into <mark> after escaping
_WORD = re.compile(r"[a-z][a-z0-9]{2,29}")
_TERM = re.compile(r"[a-z0-9]+")


class _Lexemes(Func):
    """A text's stemmed words without stop words, as one string: what pg_trgm compares for similarity."""

    template = "array_to_string(tsvector_to_array(to_tsvector('english'::regconfig, %(expressions)s)), ' ')"
    output_field = TextField()


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# ---- keeping the index current ------------------------------------------------------------------

_REINDEX_SQL = """
UPDATE forums_thread t SET
  search_vector =
      setweight(to_tsvector(%(config)s, t.title), 'A')
   || setweight(to_tsvector(%(config)s, coalesce(op.body, '')), 'B')
   || setweight(to_tsvector(%(config)s, coalesce(r.bodies, '')), 'C'),
  similar_vector =
      setweight(to_tsvector(%(config)s, t.title), 'A')
   || setweight(to_tsvector(%(config)s, left(coalesce(op.body, ''), %(similar_chars)s)), 'B')
FROM forums_thread t2
LEFT JOIN LATERAL (
  SELECT p.body FROM forums_post p WHERE p.thread_id = t2.id AND p.kind = 'opening'
) op ON true
LEFT JOIN LATERAL (
  SELECT left(string_agg(p.body, E'\\n' ORDER BY p.id), %(replies_chars)s) AS bodies
  FROM forums_post p
  WHERE p.thread_id = t2.id AND p.kind <> 'opening' AND p.state = 'visible'
) r ON true
WHERE t.id = t2.id AND {where}
"""


def reindex_thread(thread_id: int) -> None:
    """Bring one thread's search columns up to date (call in the transaction that changed it)."""
    if is_postgres():
        _reindex("t2.id = %(thread_id)s", thread_id=thread_id)


def reindex_all(*, forum_id: int | None = None) -> None:
    """Rebuild the search columns of every thread (of one forum): after a bulk load or a config change."""
    if is_postgres():
        if forum_id is None:
            _reindex("true")
        else:
            _reindex("t2.forum_id = %(forum_id)s", forum_id=forum_id)


def _reindex(where: str, **params) -> None:
    params |= {"config": CONFIG, "similar_chars": SIMILAR_BODY_CHARS, "replies_chars": REPLIES_INDEXED_CHARS}
    with connection.cursor() as cursor:
        cursor.execute(_REINDEX_SQL.format(where=where), params)


def words_of(text: str) -> set[str]:
    return set(_WORD.findall((text or "").lower()))


def remember_words(texts: Iterable[str]) -> None:
    """Add the words of new text to the vocabulary that misspelt searches are corrected against."""
    words: set[str] = set()
    for text in texts:
        words |= words_of(text)
    if words:
        Word.objects.bulk_create([Word(word=w) for w in sorted(words)], ignore_conflicts=True, batch_size=500)


# ---- searching ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Hit:
    thread_id: int
    rank: float
    title_html: str  # escaped, with <mark> around matches
    snippet_html: str


@dataclasses.dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]  # the requested page, best first
    total: int  # matches ranked (at most FORUM_SEARCH_CANDIDATES)
    capped: bool  # more matched than were ranked: the newest FORUM_SEARCH_CANDIDATES were
    corrected_from: str | None = None  # the query had no match; `query` is the trigram-corrected one


def search(*, threads: QuerySet, query: str, offset: int = 0, limit: int = 20) -> SearchResult:
    """Search `threads` (already filtered to what the reader may see) for `query`; when nothing matches,
    retry once with the query's misspelt words corrected, and say so."""
    query = " ".join(query.split())[:200]
    result = _search(threads, query, offset, limit)
    if result.total == 0:
        corrected = correct_query(query)
        if corrected and corrected != query:
            retry = _search(threads, corrected, offset, limit)
            if retry.total:
                return dataclasses.replace(retry, corrected_from=query)
    return result


def _search(threads: QuerySet, query: str, offset: int, limit: int) -> SearchResult:
    if not query.strip():
        return SearchResult(query=query, hits=[], total=0, capped=False)
    cap = settings.FORUM_SEARCH_CANDIDATES
    if is_postgres():
        ts_query = SearchQuery(query, search_type="websearch", config=CONFIG)
        # The newest `cap` matches (the GIN index finds them), and only those are ranked.
        candidates = threads.filter(search_vector=ts_query).order_by("-last_activity_at").values("pk")[: cap + 1]
        ranked = list(
            Thread.objects.filter(pk__in=Subquery(candidates))
            .annotate(rank=SearchRank(F("search_vector"), ts_query, normalization=1))
            .order_by("-rank", "-last_activity_at", "-pk")
            .values_list("pk", "rank")
        )
        capped = len(ranked) > cap
        ranked = ranked[:cap]
        page = ranked[offset : offset + limit]
        hits = _pg_headlines(page, ts_query)
    else:
        words = _TERM.findall(query.lower())[:8]
        if not words:
            return SearchResult(query=query, hits=[], total=0, capped=False)
        matches = threads
        for word in words:
            in_posts = Post.objects.filter(thread=OuterRef("pk"), state=Visibility.VISIBLE, body__icontains=word)
            matches = matches.filter(Q(title__icontains=word) | Exists(in_posts))
        rows = list(matches.order_by("-last_activity_at", "-pk").values_list("pk", "title")[: cap + 1])
        capped = len(rows) > cap
        rows = rows[:cap]
        scored = sorted(rows, key=lambda row: -sum(w in row[1].lower() for w in words))  # stable: newest first
        ranked = [(pk, float(sum(w in title.lower() for w in words))) for pk, title in scored]
        page = ranked[offset : offset + limit]
        hits = _fallback_headlines(page, words)
    return SearchResult(query=query, hits=hits, total=len(ranked), capped=capped)


def _opening_body():
    return Subquery(Post.objects.filter(thread=OuterRef("pk"), kind=PostKind.OPENING).values("body")[:1])


def _pg_headlines(page: list[tuple[int, float]], ts_query: SearchQuery) -> list[Hit]:
    if not page:
        return []
    options = {"config": CONFIG, "start_sel": _MARK_START, "stop_sel": _MARK_STOP}
    rows = Thread.objects.filter(pk__in=[pk for pk, _ in page]).annotate(
        title_hl=SearchHeadline("title", ts_query, highlight_all=True, **options),
        body_hl=SearchHeadline(
            Left(_opening_body(), HEADLINE_BODY_CHARS),
            ts_query,
            max_words=30,
            min_words=12,
            max_fragments=2,
            fragment_delimiter=" … ",
            **options,
        ),
    )
    found = {row.pk: row for row in rows.only("pk")}
    return [
        Hit(
            thread_id=pk,
            rank=float(rank),
            title_html=_marked(found[pk].title_hl),
            snippet_html=_marked(found[pk].body_hl),
        )
        for pk, rank in page
        if pk in found
    ]


def _marked(text: str | None) -> str:
    """Escape a headline, then turn the sentinels around matches into <mark>; unbalanced ones (a
    sentinel typed by a learner) are dropped rather than leaving an element open."""
    escaped = html.escape(" ".join((text or "").split()))
    if escaped.count(_MARK_START) != escaped.count(_MARK_STOP):
        return escaped.replace(_MARK_START, "").replace(_MARK_STOP, "")
    return escaped.replace(_MARK_START, "<mark>").replace(_MARK_STOP, "</mark>")


def _fallback_headlines(page: list[tuple[int, float]], words: list[str]) -> list[Hit]:
    if not page:
        return []
    rows = {
        row["pk"]: row
        for row in Thread.objects.filter(pk__in=[pk for pk, _ in page])
        .annotate(opening=_opening_body())
        .values("pk", "title", "opening")
    }
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)

    def mark(text: str) -> str:
        return _marked(pattern.sub(lambda m: f"{_MARK_START}{m.group(0)}{_MARK_STOP}", text))

    hits = []
    for pk, rank in page:
        if pk not in rows:
            continue
        body = " ".join((rows[pk]["opening"] or "").split())
        found = pattern.search(body)
        start = max(0, found.start() - 80) if found else 0
        snippet = ("…" if start else "") + body[start : start + 220] + ("…" if len(body) > start + 220 else "")
        hits.append(Hit(thread_id=pk, rank=rank, title_html=mark(rows[pk]["title"]), snippet_html=mark(snippet)))
    return hits


# ---- correcting a misspelt query -----------------------------------------------------------------


def correct_query(query: str) -> str | None:
    """The query with each word the forums have never seen replaced by the closest word they have
    (pg_trgm similarity; difflib on SQLite), or None when nothing could be corrected."""
    tokens = re.findall(r"[A-Za-z][A-Za-z0-9]*|[^A-Za-z]+", query)
    words = {t.lower() for t in tokens if t[0].isalpha() and len(t) >= 3 and t.lower() != "or"}
    if not words:
        return None
    known = set(Word.objects.filter(word__in=words).values_list("word", flat=True))
    fixes: dict[str, str] = {}
    for word in sorted(words - known):
        best = _closest_word(word)
        if best:
            fixes[word] = best
    if not fixes:
        return None
    return "".join(fixes.get(t.lower(), t) if t[0].isalpha() else t for t in tokens)


def _closest_word(word: str) -> str | None:
    if is_postgres():
        row = (
            Word.objects.filter(word__trigram_similar=word)
            .annotate(similarity=TrigramSimilarity("word", word))
            .order_by("-similarity", "word")
            .values_list("word", flat=True)
            .first()
        )
        return row
    vocabulary = list(Word.objects.filter(word__startswith=word[0]).values_list("word", flat=True)[:20000])
    close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=0.75)
    return close[0] if close else None


# ---- similar questions --------------------------------------------------------------------------


def similar(*, threads: QuerySet, title: str, body: str = "", limit: int = 5) -> list[tuple[int, float]]:
    """The threads most like a question being typed: full-text candidates over the title and the start
    of the body, the best 3 times limit by rank, re-ranked by trigram similarity of the titles; only those at
    or above FORUM_SIMILAR_MIN_SCORE, best first, as (thread id, score)."""
    title = " ".join((title or "").split())[:200]
    if limit <= 0 or len(title) < 3:
        return []
    text = f"{title} {(body or '')[:SIMILAR_BODY_CHARS]}"
    terms = list(dict.fromkeys(_TERM.findall(text.lower())))[:32]
    if not terms:
        return []
    threshold = settings.FORUM_SIMILAR_MIN_SCORE
    if is_postgres():
        ts_query = SearchQuery(" | ".join(terms), search_type="raw", config=CONFIG)
        candidates = (
            threads.filter(similar_vector=ts_query)
            .annotate(rank=SearchRank(F("similar_vector"), ts_query))
            .order_by("-rank", "-pk")
            .values("pk")[: 3 * limit]
        )
        # Trigram similarity between normalised words (stemmed, no stop words) of the typed title and of
        # the candidate's title with the start of its opening post: "initialise the weights" and
        # "weight initialization" share more trigrams as lexemes than as they were typed.
        candidate_text = Concat("title", Value(" "), Left(_opening_body(), SIMILAR_RERANK_BODY_CHARS))
        scored = (
            Thread.objects.filter(pk__in=Subquery(candidates))
            .annotate(score=TrigramSimilarity(_Lexemes(candidate_text), _Lexemes(Value(title))))
            .filter(score__gte=threshold)
            .order_by("-score", "-pk")
            .values_list("pk", "score")[:limit]
        )
        return [(pk, round(float(score), 4)) for pk, score in scored]
    words = [t for t in terms if len(t) >= 3][:12]
    if not words:
        return []
    condition = Q()
    for word in words:
        condition |= Q(title__icontains=word)
    rows = list(threads.filter(condition).order_by("-last_activity_at").values_list("pk", "title")[:200])
    rows.sort(key=lambda row: -sum(w in row[1].lower() for w in words))
    scored = [(pk, trigram_similarity(title, other)) for pk, other in rows[: 3 * limit]]
    scored = [(pk, round(score, 4)) for pk, score in scored if score >= threshold]
    return sorted(scored, key=lambda row: (-row[1], -row[0]))[:limit]


def _trigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        padded = f"  {word} "
        grams |= {padded[i : i + 3] for i in range(len(padded) - 2)}
    return grams


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's similarity(), for the SQLite fallback: shared trigrams over all trigrams of both."""
    first, second = _trigrams(a), _trigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
