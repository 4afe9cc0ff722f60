"""Two grading hosts, each a worker beside its own Docker engine; a worker holding a lease is killed
with kill -9 several times in a row while submissions keep coming. Every submission is graded exactly
once, none is lost, and each killed attempt's lease is taken back by the sweeper (Celery beat).
bench/grading_failover.py runs the same harness with 50 kills and reports the timings."""

import os
import shutil

import pytest
from django.db import connection

from bench import fleet
from grading import services
from tests.factories import SubscriptionFactory
from tests.grading.conftest import SIGMOID_SOLUTION, as_bytes, make_assignment

pytestmark = pytest.mark.docker

LEASE_S, RENEW_S, SWEEP_S = 4, 1.0, 1.0


@pytest.fixture
def engines(docker_engine):
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd is missing: run `make engine` (as root) first.")
    if os.geteuid() != 0:
        pytest.skip("starting private Docker engines needs root")
    started = []
    try:
        for name in ("a", "b"):
            engine = fleet.PrivateEngine(name)
            started.append(engine)
            engine.start()
            engine.load_image(docker_engine)
        yield started
    finally:
        for engine in started:
            engine.stop()  # by its PID; the data root (with the image) stays for the next run


def test_kill_9_mid_grading_loses_nothing_and_grades_nothing_twice(engines, settings, transactional_db, tmp_path):
    fleet.purge_broker(settings.CELERY_BROKER_URL)
    db = connection.settings_dict
    env = fleet.fleet_env(
        dict(os.environ)
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "TEST_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SUBMISSIONS_ROOT": str(settings.SUBMISSIONS_ROOT),
        },
        lease_s=LEASE_S,
        renew_s=RENEW_S,
        sweep_s=SWEEP_S,
    )
    assignment = make_assignment()
    learner = SubscriptionFactory().user
    data = as_bytes(SIGMOID_SOLUTION)

    def submit() -> int:
        return services.submission_create(assignment=assignment, learner=learner, data=data).pk

    try:
        report = fleet.run_failover(
            engines=engines, env=env, log_dir=tmp_path, submit=submit, kills=3, min_submissions=10,
            lease_s=LEASE_S, sweep_s=SWEEP_S, timeout_s=400,
        )  # fmt: skip
    finally:
        fleet.purge_broker(settings.CELERY_BROKER_URL)
    print(report.summary())
    assert len(report.kills) == 3
    assert report.not_graded == [] and report.graded_more_than_once == []
    assert report.graded_once == report.submissions >= 10
    # Each killed attempt's run was closed by the sweeper when its lease expired, and its submission
    # was then graded by another attempt.
    assert all(k.recovered_after_s is not None and k.graded_after_s is not None for k in report.kills)
    assert report.abandoned_runs >= 3
    assert report.containers_running == 0  # a dead worker's sandbox stops by itself (its channel closed)
    assert report.containers_left == 0
    assert all(grade == 3 for grade in assignment.submissions.values_list("score", flat=True))
