"""Fill a database for the load benchmark (bench/load.py), fast (bulk_create throughout): the five demo courses,
LEARNERS learners enrolled in one to five courses, POSTS forum posts, SUBMISSIONS graded submissions, and one
subscribed learner whose session the benchmark uses. Idempotent: what is already there is not made again.

    DATABASE_URL=... DJANGO_SETTINGS_MODULE=bench.load_settings .venv/bin/python bench/populate.py
    docker-compose -p mooc exec -T web mooc-entrypoint manage shell < bench/populate.py   (inside the stack)

Sizes from the environment: POPULATE_LEARNERS (10000), POPULATE_POSTS (100000), POPULATE_SUBMISSIONS (20000).
The last line printed is `session=<key> lecture=<url> course=<slug>`."""

import datetime
import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

DOMAIN = "load.example.com"


def populate(*, learners: int, posts: int, submissions: int) -> str:
    from billing.models import Subscription
    from courses.models import Course, Enrollment, Item, ItemKind
    from forums import services as forum_services
    from forums import synthetic
    from forums.models import Post, Topic
    from grading.models import Assignment, Submission

    started = time.perf_counter()
    User = get_user_model()
    if not Course.objects.exists():
        call_command("import_pack", "content/demo", verbosity=0)
    courses = list(Course.objects.order_by("order"))
    have = User.objects.filter(email__endswith=f"@{DOMAIN}").count()
    if have < learners:
        password = make_password("load-pass-1234")  # hashed once: the same for all
        User.objects.bulk_create(
            [
                User(email=f"learner{i}@{DOMAIN}", name=f"Learner {i}", password=password, is_active=True)
                for i in range(have, learners)
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    users = list(User.objects.filter(email__endswith=f"@{DOMAIN}").order_by("pk").values_list("pk", flat=True))
    print(f"learners: {len(users):,} ({time.perf_counter() - started:.0f} s)", flush=True)

    if Enrollment.objects.filter(user__email__endswith=f"@{DOMAIN}").count() < len(users):
        Enrollment.objects.bulk_create(
            [Enrollment(user_id=pk, course=course) for n, pk in enumerate(users) for course in courses[: 1 + n % 5]],
            batch_size=5000,
            ignore_conflicts=True,
        )
    print(f"enrollments: {Enrollment.objects.count():,} ({time.perf_counter() - started:.0f} s)", flush=True)

    forums = [forum_services.forum_ensure(course_id=course.pk) for course in courses]
    have_posts = Post.objects.count()
    if have_posts < posts * 0.9:
        topics = list(Topic.objects.filter(forum__in=forums, is_archived=False))
        authors = list(User.objects.filter(pk__in=users[:2000]))
        synthetic.load(topics=topics, authors=authors, threads=max(1, (posts - have_posts) // 4), seed=15)
    print(f"forum posts: {Post.objects.count():,} ({time.perf_counter() - started:.0f} s)", flush=True)

    assignments = list(Assignment.objects.order_by("pk"))
    have_subs = Submission.objects.count()
    if assignments and have_subs < submissions:
        now = timezone.now()
        rows = []
        for k in range(have_subs, submissions):
            learner = users[(k // len(assignments)) % len(users)]
            attempt = 1 + k // (len(assignments) * len(users))
            rows.append(
                Submission(
                    assignment=assignments[k % len(assignments)],
                    learner_id=learner,
                    attempt=attempt,
                    notebook_sha256=f"{k:064x}",
                    notebook_path=f"bench/{k}.ipynb",
                    size_bytes=2048,
                    status="graded",
                    score=k % 11,
                    max_score=10,
                    submitted_at=now - datetime.timedelta(minutes=k),
                )
            )
        Submission.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    print(f"submissions: {Submission.objects.count():,} ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    # The learner whose pages are measured: subscribed, enrolled in every course, with submissions.
    viewer = User.objects.get(pk=users[4])
    now = timezone.now()
    Subscription.objects.update_or_create(
        stripe_subscription_id="sub_load_viewer",
        defaults={"user": viewer, "status": "active", "current_period_start": now,
                  "current_period_end": now + datetime.timedelta(days=30)},
    )  # fmt: skip
    session = SessionStore()
    session[SESSION_KEY] = str(viewer.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = viewer.get_session_auth_hash()
    session.create()
    lecture = (
        Item.objects.filter(kind=ItemKind.LECTURE, course=courses[0], is_preview=False)
        .order_by("week__number", "order")
        .first()
    )
    return f"session={session.session_key} lecture={lecture.get_absolute_url()} course={courses[0].slug}"


if __name__ in ("__main__", "django.core.management.commands.shell"):
    print(
        populate(
            learners=int(os.environ.get("POPULATE_LEARNERS", 10_000)),
            posts=int(os.environ.get("POPULATE_POSTS", 100_000)),
            submissions=int(os.environ.get("POPULATE_SUBMISSIONS", 20_000)),
        ),
        flush=True,
    )
