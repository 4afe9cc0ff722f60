"""Forum benchmark on PostgreSQL: thread list, search and similar questions at 100,000 posts, beside a
plain indexed lookup measured in the same run, and the recall@5 of the similar-question box.

    .venv/bin/python bench/forums.py                     # 100,000 posts (or: make bench)
    .venv/bin/python bench/forums.py --posts 1000000     # the run outside CI (generation takes a while)

Data: synthetic threads in the vocabulary of the five courses (forums/synthetic.py, fixed seed), about
four posts a thread, spread over five course forums, plus the originals of the labelled paraphrase set
(bench/data/forum_paraphrases.yaml). It lives in its own database, `mooc_bench_forums_<posts>` on the
local PostgreSQL (FORUM_BENCH_DATABASE_URL overrides), created and filled on the first run and reused
afterwards (--rebuild starts again). Every measurement calls the selector the page calls, so it
includes the access check, filters and headlines, not the template.

Goals (issue 12): search p95 <= 50 ms at 100k posts and <= 150 ms at 1M; similar questions p95 <= 50 ms
at 100k; recall@5 >= 75 %.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(posts: int) -> str:
    url = os.environ.get("FORUM_BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/mooc_bench_forums_{posts}")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": "",
        }
    )
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def _courses():
    """The five demo courses' forums, with a topic per week and an assignment each (no videos)."""
    import datetime

    from courses.models import Course, Item, ItemKind, Specialization, Week
    from forums import services

    spec, _ = Specialization.objects.get_or_create(slug="deep-learning", defaults={"title": "Deep Learning"})
    slugs = [
        "neural-networks-and-deep-learning",
        "improving-deep-neural-networks",
        "structuring-machine-learning-projects",
        "convolutional-neural-networks",
        "sequence-models",
    ]
    forums = []
    for order, slug in enumerate(slugs, 1):
        course, _ = Course.objects.get_or_create(
            slug=slug,
            defaults={
                "specialization": spec,
                "title": slug.replace("-", " ").title(),
                "order": order,
                "release_date": datetime.date(2020, 1, 1),
            },
        )
        for number in range(1, 5):
            week, _ = Week.objects.get_or_create(course=course, number=number, defaults={"title": f"Week {number}"})
            if number == 2:
                Item.objects.get_or_create(
                    course=course,
                    slug=f"assignment-{order}",
                    defaults={"week": week, "title": f"Assignment {order}", "kind": ItemKind.ASSIGNMENT},
                )
        forums.append(services.forum_ensure(course_id=course.pk))
    return forums


def _fill(posts: int, seed: int, rebuild: bool) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from forums import evaluation, synthetic
    from forums.models import Post, Topic

    user_model = get_user_model()
    forums = _courses()
    have = Post.objects.count()
    if rebuild or have < posts * 0.9:
        started = time.perf_counter()
        with connection.cursor() as cursor:  # start again from empty forum tables
            cursor.execute(
                "TRUNCATE forums_thread, forums_post, forums_vote, forums_follow, forums_flag, forums_postrevision"
                " RESTART IDENTITY CASCADE"
            )
        if user_model.objects.filter(email__endswith="@bench.example.com").count() < 500:
            user_model.objects.bulk_create(
                [user_model(email=f"member{i}@bench.example.com", name=f"Member {i}") for i in range(500)],
                ignore_conflicts=True,
            )
        authors = list(user_model.objects.filter(email__endswith="@bench.example.com")[:500])
        topics = list(Topic.objects.filter(forum__in=forums, is_archived=False))
        pairs = evaluation.load_pairs()
        print(f"Generating about {posts:,} posts (seed {seed}) ...", flush=True)
        loaded = synthetic.load(topics=topics, authors=authors, threads=max(1, (posts - len(pairs)) // 4), seed=seed)
        evaluation.store_originals(pairs, author=authors[0])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"  {loaded.posts:,} posts in {loaded.threads:,} threads, in {time.perf_counter() - started:.0f} s")
    viewer, _ = user_model.objects.get_or_create(email="reader@bench.example.com", defaults={"name": "Reader"})
    return {"forums": forums, "viewer": viewer}


def _timed(fns: dict, runs: int, seed: int, warmup: int = 10) -> dict[str, list[float]]:
    """Each measurement `runs` times, interleaved in a shuffled order every round, so that a busy moment of
    the machine (other processes) lands on all of them alike and the ratios to the baseline stay fair."""
    rng = random.Random(seed)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for _ in range(runs):
        rng.shuffle(names)
        for name in names:
            start = time.perf_counter()
            fns[name]()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def _document_share(word: str) -> float:
    from django.contrib.postgres.search import SearchQuery

    from forums.models import Thread

    total = Thread.objects.count()
    query = SearchQuery(word, search_type="websearch", config="english")
    return Thread.objects.filter(search_vector=query).count() / total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200, help="timed calls per measurement (after 10 warm-up calls)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--rebuild", action="store_true", help="drop the generated threads and generate them again")
    args = parser.parse_args()

    url = _setup(args.posts)
    state = _fill(args.posts, args.seed, args.rebuild)

    from django.conf import settings

    from forums import evaluation, selectors
    from forums.models import Post, Thread

    forums, viewer = state["forums"], state["viewer"]
    rng = random.Random(args.seed)
    ids = list(Thread.objects.values_list("pk", flat=True))
    courses = {forum.pk: selectors.forum_get(course_slug=_slug(forum))[1] for forum in forums}
    posts, threads = Post.objects.count(), len(ids)
    print(f"Database {url.rsplit('/', 1)[1]}: {posts:,} posts, {threads:,} threads in {len(forums)} forums")

    queries = {
        "rare": ["hyperband", "levenshtein", "focal loss", "bfloat16", "teacher forcing"],
        "medium": ["dropout", "anchor box", "beam search", "gram matrix", "early stopping"],
        "common": ["gradient", "learning rate", "shape", "cost", "iterations"],
    }
    shares = {kind: statistics.mean(_document_share(q) for q in words) for kind, words in queries.items()}
    titles = [pair.paraphrase for pair in evaluation.load_pairs()]

    def lookup():
        Thread.objects.filter(pk=rng.choice(ids)).first()

    def thread_list():
        forum = rng.choice(forums)
        selectors.forum_page(
            viewer=viewer,
            forum=forum,
            course=courses[forum.pk],
            topic=None,
            filters=selectors.ListFilters(),
            page=rng.randint(1, 5),
        )

    def searcher(kind):
        def run():
            forum = rng.choice(forums)
            selectors.forum_page(
                viewer=viewer,
                forum=forum,
                course=courses[forum.pk],
                topic=None,
                filters=selectors.ListFilters(q=rng.choice(queries[kind])),
            )

        return run

    def similar():
        selectors.similar_for(viewer=viewer, forum=rng.choice(forums), title=rng.choice(titles))

    fns = {"plain indexed lookup (baseline)": lookup, "thread list, page 1-5": thread_list}
    for kind in ("rare", "medium", "common"):
        fns[f"search, {kind} words (in {shares[kind]:.1%} of threads)"] = searcher(kind)
    fns["similar questions (typed titles)"] = similar
    load_before = os.getloadavg()[0]
    measured = _timed(fns, args.runs, args.seed)
    results = [(label, measured[label]) for label in fns]

    base = _p(results[0][1], 95)
    load = (load_before + os.getloadavg()[0]) / 2
    print(
        f"\nLoad average around the run: {load:.1f} on {os.cpu_count()} CPUs (other processes slow every figure alike)"
    )
    print(f"{'measurement':<46} {'p50 ms':>8} {'p95 ms':>8} {'p95 / baseline':>15}")
    for label, samples in results:
        print(f"{label:<46} {_p(samples, 50):>8.2f} {_p(samples, 95):>8.2f} {_p(samples, 95) / base:>14.1f}x")

    pairs = evaluation.load_pairs()
    originals = {
        index: Thread.objects.filter(title=" ".join(pair.title.split()), forum__course__slug=pair.course_slug)
        .values_list("pk", flat=True)
        .first()
        for index, pair in enumerate(pairs)
    }
    recall = evaluation.recall_at(pairs, originals, viewer=viewer, k=5)
    print(
        f"\nrecall@5 of the similar-question box: {recall.recall:.1%} ({recall.hits} of {recall.pairs} paraphrases;"
        f" threshold {settings.FORUM_SIMILAR_MIN_SCORE}, about {threads // len(forums):,} threads per forum)"
    )
    return 0


def _slug(forum) -> str:
    from courses import api as courses

    return courses.course_facts(course_id=forum.course_id).slug


if __name__ == "__main__":
    sys.exit(main())
