"""recall@k of the similar-question box on the labelled paraphrase pairs (bench/data/forum_paraphrases.yaml).

For each course the originals are stored as threads (among whatever else its forum holds: synthetic
distractors in the benchmark and the test); then each paraphrase title is typed into the box as a
learner would, through the same function the page calls, and we count how often its original is among
the first k suggestions.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
from pathlib import Path

from django.utils import timezone

from courses import api as courses

from . import selectors, services, synthetic

PAIRS = Path(__file__).resolve().parent.parent / "bench" / "data" / "forum_paraphrases.yaml"


@dataclasses.dataclass(frozen=True)
class Pair:
    course_slug: str
    title: str
    body: str
    paraphrase: str


@dataclasses.dataclass(frozen=True)
class Recall:
    k: int
    pairs: int
    hits: int
    misses: list[tuple[str, str]]  # (paraphrase, original title) not found in the first k

    @property
    def recall(self) -> float:
        return self.hits / self.pairs if self.pairs else 0.0


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    data = courses.yaml_plain(courses.yaml_loads(path.read_text(encoding="utf-8")))
    return [
        Pair(
            course_slug=slug,
            title=p["original"]["title"],
            body=p["original"].get("body", ""),
            paraphrase=p["paraphrase"],
        )
        for slug, pairs in data["courses"].items()
        for p in pairs
    ]


def store_originals(pairs: list[Pair], *, author, now: datetime.datetime | None = None) -> dict[int, int]:
    """Store each original as a thread in its course's forum; returns {pair index: thread id}.

    The labelled body is one sentence; real opening posts go on for a paragraph, and so do the synthetic
    distractors. Each original's body is padded with generated sentences (fixed seed) so that it is as
    long as theirs: otherwise length-normalised ranking would favour the originals for being short."""
    now = now or timezone.now()
    rng = random.Random(2024)
    ids = {}
    for index, pair in enumerate(pairs):
        course = courses.course_get(slug=pair.course_slug)
        forum = services.forum_ensure(course_id=course.pk)
        topic = services.topic_for_week(forum, None)
        thread = services.thread_import(
            forum=forum,
            topic=topic,
            author=author,
            title=pair.title,
            body=f"{pair.body or pair.title} {synthetic.body(rng, (3, 5))}",
            created_at=now - datetime.timedelta(hours=index + 1),
        )
        ids[index] = thread.pk
    return ids


def recall_at(pairs: list[Pair], originals: dict[int, int], *, viewer, k: int = 5) -> Recall:
    hits, misses = 0, []
    forums = {}
    for index, pair in enumerate(pairs):
        if pair.course_slug not in forums:
            course = courses.course_get(slug=pair.course_slug)
            forums[pair.course_slug] = services.forum_ensure(course_id=course.pk)
        found = selectors.similar_for(viewer=viewer, forum=forums[pair.course_slug], title=pair.paraphrase, limit=k)
        if originals[index] in [thread_id for thread_id, _ in found]:
            hits += 1
        else:
            misses.append((pair.paraphrase, pair.title))
    return Recall(k=k, pairs=len(pairs), hits=hits, misses=misses)
