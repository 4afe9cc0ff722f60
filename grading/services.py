"""Writes for notebook grading: submissions, grading runs, grader versions (publish + self-check), regrades."""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import logging
import os
import socket
import threading
import traceback
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from access import api as access
from courses import api as courses

from . import rules, runner, sandbox, selectors
from .models import Assignment, GraderVersion, GradingRun, HintReveal, RegradeJob, Submission
from .notebooks import NotebookRejected, notebook_check_belongs, notebook_load, notebook_parse, notebook_store
from .pipeline import GradeReport
from .spec import AssignmentBundle, SpecError, TestSpec, locked_cell_hashes

log = logging.getLogger(__name__)


class SubmissionRejected(Exception):
    """The learner's upload was refused. The message is written for them; nothing was stored."""


class PublishError(Exception):
    """A grader version could not be published; the message says why."""


# ---------------------------------------------------------------------------------------------
# Submissions


def submission_create(
    *, assignment: Assignment, learner, data: bytes, filename: str = "", now: datetime.datetime | None = None
) -> Submission:
    """Validate an uploaded notebook, store it by content hash and queue it for grading.

    The Submission row is committed before the grading task is sent, so no submission is ever lost;
    any refusal raises SubmissionRejected and stores nothing."""
    now = now or timezone.now()
    decision = access.can_submit(learner, assignment.item)
    if not decision:
        raise SubmissionRejected(decision.message)
    version = assignment.current_version
    if version is None:
        raise SubmissionRejected(selectors.NOT_OPEN)
    try:
        notebook = notebook_parse(data, limit_bytes=assignment.max_upload_bytes)
        notebook_check_belongs(notebook, assignment_slug=assignment.slug, starter=version.starter)
    except NotebookRejected as exc:
        raise SubmissionRejected(str(exc)) from exc
    canonical = (json.dumps(notebook, ensure_ascii=False, sort_keys=True) + "\n").encode()

    with transaction.atomic():
        # One submission at a time per learner: the attempt count and cooldown are decided under a lock.
        get_user_model().objects.select_for_update().filter(pk=learner.pk).first()
        previous = Submission.objects.filter(assignment=assignment, learner=learner).order_by("-attempt")
        count = previous.count()
        if not (check := rules.check_attempts(max_attempts=assignment.max_attempts, used=count)):
            raise SubmissionRejected(check.message)
        if not (check := selectors.cooldown_check(assignment=assignment, last=previous.first(), now=now)):
            raise SubmissionRejected(check.message)
        digest, relative = notebook_store(canonical)
        submission = Submission.objects.create(
            assignment=assignment,
            learner=learner,
            attempt=count + 1,
            notebook_sha256=digest,
            notebook_path=relative,
            size_bytes=len(data),
            original_name=filename[:255],
            submitted_at=now,
        )
        # robust: if the broker is down the learner still gets their receipt; the sweeper re-queues it.
        transaction.on_commit(lambda: _enqueue(submission.pk), robust=True)
    return submission


def notebook_from_editor(*, assignment: Assignment, base: dict, code: dict[int, str]) -> dict:
    """The notebook the browser editor submits: `base` with its code cells replaced by what was typed
    (`code` maps a cell's index to its text; other cells, locked ones among them, stay as they were; the
    grader's tamper check still compares locked cells)."""
    notebook = copy.deepcopy(base)
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") == "code" and index in code:
            cell["source"] = code[index].replace("\r\n", "\n")
    version = assignment.current_version
    notebook.setdefault("metadata", {})["mooc"] = {
        "assignment": assignment.slug,
        "grader_version": version.number if version else None,
    }
    return notebook


def submission_create_from_editor(*, assignment: Assignment, learner, base: dict, code: dict[int, str]) -> Submission:
    """Submit what was typed in the browser editor, by the same rules as an upload."""
    notebook = notebook_from_editor(assignment=assignment, base=base, code=code)
    return submission_create(
        assignment=assignment,
        learner=learner,
        data=json.dumps(notebook).encode(),
        filename=f"{assignment.slug}-browser.ipynb",
    )


def _enqueue(submission_id: int) -> None:
    from .tasks import grade_submission

    grade_submission.delay(submission_id)


def worker_id() -> str:
    """Who holds a lease: GRADING_WORKER_ID when set (a host's name in the fleet), else host:pid."""
    return settings.GRADING_WORKER_ID or f"{socket.gethostname()}:{os.getpid()}"


def _lease_expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(seconds=settings.GRADING_LEASE_SECONDS)


def _abandon_runs(submission: Submission, *, now: datetime.datetime, why: str) -> int:
    """Close the first-grading runs still open (their attempt died or lost the lease) as abandoned."""
    return submission.runs.filter(status=GradingRun.Status.RUNNING, regrade__isnull=True).update(
        status=GradingRun.Status.ABANDONED, finished_at=now, log=why
    )


def submissions_requeue_stale(*, now: datetime.datetime | None = None, queued_after_s: int = 300) -> int:
    """Put back in the queue what a lost message or a dead worker left behind (Celery beat, ADR 0003).

    Queued for longer than `queued_after_s` without being claimed (the message was lost, e.g. the
    broker was down at submit time): sent again. Running under a lease that expired (its worker was
    killed, its host died): the attempt's run is closed as abandoned, the lease is taken back and the
    submission is queued again; any result that attempt might still bring is refused, since it no
    longer holds the lease. A submission whose attempts died GRADING_MAX_ABANDONED times ends in
    "error" instead (a notebook that takes the worker down with it must not do so forever)."""
    now = now or timezone.now()
    requeued, given_up = [], 0
    stale_queued = Submission.objects.filter(
        status=Submission.Status.QUEUED, updated_at__lt=now - datetime.timedelta(seconds=queued_after_s)
    )
    expired = Submission.objects.filter(status=Submission.Status.RUNNING, lease_expires_at__lt=now)
    legacy = Submission.objects.filter(status=Submission.Status.RUNNING, lease_expires_at__isnull=True)
    with transaction.atomic():
        for submission in stale_queued.select_for_update(skip_locked=True):
            submission.save(update_fields=["updated_at"])  # restart its clock
            requeued.append(submission.pk)
        for submission in (
            (expired | legacy).select_related("assignment").select_for_update(skip_locked=True, of=("self",))
        ):
            if submission.lease_expires_at is None:  # running since before leases: the old rule
                limit = submission.assignment.time_limit_seconds + runner.STALE_MARGIN_SECONDS
                if submission.updated_at > now - datetime.timedelta(seconds=limit):
                    continue
            _abandon_runs(
                submission,
                now=now,
                why=f"The lease of {submission.lease_worker or 'its worker'} expired: the worker stopped "
                "before finishing this run.",
            )
            abandoned = submission.runs.filter(status=GradingRun.Status.ABANDONED, regrade__isnull=True).count()
            submission.lease_attempt, submission.lease_worker, submission.lease_expires_at = None, "", None
            if abandoned >= settings.GRADING_MAX_ABANDONED:
                run = GradingRun.objects.create(
                    submission=submission,
                    grader_version=submission.assignment.current_version,
                    status=GradingRun.Status.ERROR,
                    error_message="Grading stopped several times while running this notebook. Staff have been "
                    "told; they will look at it and regrade it.",
                    log=f"{abandoned} attempts ended without a result (worker killed or lease lost); not re-queued.",
                    started_at=now,
                    finished_at=now,
                )
                submission.status, submission.latest_run = Submission.Status.ERROR, run
                submission.save()
                given_up += 1
                continue
            submission.status = Submission.Status.QUEUED
            submission.save()
            requeued.append(submission.pk)
        for pk in requeued:
            transaction.on_commit(lambda pk=pk: _enqueue(pk), robust=True)
    if given_up:
        log.error("gave up on %d submission(s) whose grading stopped too often", given_up)
    return len(requeued)


def submissions_requeue_engine_failures() -> int:
    """Submissions that ended in "error" because no engine answered are queued again once this host's
    engine answers (Celery beat, on the grading queue: it runs where an engine is)."""
    if not runner.engine_reachable():
        return 0
    requeued = []
    with transaction.atomic():
        waiting = Submission.objects.filter(status=Submission.Status.ERROR, engine_failed_at__isnull=False)
        for submission in waiting.select_for_update(skip_locked=True):
            submission.status, submission.engine_failed_at = Submission.Status.QUEUED, None
            submission.save(update_fields=["status", "engine_failed_at", "updated_at"])
            requeued.append(submission.pk)
        for pk in requeued:
            transaction.on_commit(lambda pk=pk: _enqueue(pk), robust=True)
    return len(requeued)


def _tests_of(version: GraderVersion) -> list[TestSpec]:
    return [TestSpec.from_dict(t) for t in version.tests]


@transaction.atomic
def _run_start(*, submission_id: int, version: GraderVersion | None, regrade: RegradeJob | None) -> GradingRun | None:
    """Claim the submission: a new attempt takes the lease, unless the submission is graded already or
    another attempt holds a lease that has not expired (then this delivery of the task does nothing)."""
    now = timezone.now()
    submission = Submission.objects.select_for_update().select_related("assignment").get(pk=submission_id)
    version = version or submission.assignment.current_version
    if regrade is not None:
        return GradingRun.objects.create(
            submission=submission, grader_version=version, regrade=regrade, started_at=now, worker=worker_id()
        )
    if submission.status == Submission.Status.GRADED:
        return None  # a redelivered task: this submission was graded already
    if (
        submission.status == Submission.Status.RUNNING
        and submission.lease_expires_at
        and submission.lease_expires_at > now
    ):
        return None  # another attempt holds a live lease; if it dies, beat re-queues the submission
    _abandon_runs(submission, now=now, why="Another attempt took the lease after this one's expired.")
    run = GradingRun.objects.create(submission=submission, grader_version=version, started_at=now, worker=worker_id())
    submission.status = Submission.Status.RUNNING
    submission.lease_attempt, submission.lease_worker = run.attempt_id, run.worker
    submission.lease_expires_at = _lease_expiry(now)
    submission.claims += 1
    submission.engine_failed_at = None
    submission.save(
        update_fields=[
            "status",
            "lease_attempt",
            "lease_worker",
            "lease_expires_at",
            "claims",
            "engine_failed_at",
            "updated_at",
        ]
    )
    return run


def submission_lease_renew(*, submission_id: int, attempt: uuid.UUID) -> bool:
    """Push the lease's expiry forward; False when this attempt no longer holds it."""
    renewed = Submission.objects.filter(
        pk=submission_id, status=Submission.Status.RUNNING, lease_attempt=attempt
    ).update(lease_expires_at=_lease_expiry(timezone.now()))
    return renewed == 1


class _LeaseKeeper:
    """Renews a lease every GRADING_LEASE_RENEW_SECONDS from a thread while the attempt grades. When the
    process dies, renewals stop and the lease expires: that is how the fleet learns a worker died."""

    def __init__(self, run: GradingRun):
        self.run, self.lost = run, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{run.submission_id}", daemon=True)

    def __enter__(self):
        if self.run.regrade_id is None:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        return False

    def _loop(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(settings.GRADING_LEASE_RENEW_SECONDS):
                try:
                    held = submission_lease_renew(submission_id=self.run.submission_id, attempt=self.run.attempt_id)
                except Exception:  # the database blinked: try again at the next beat
                    log.warning("grading %s: could not renew the lease", self.run.submission_id, exc_info=True)
                    continue
                if not held:
                    self.lost = True
                    log.warning("grading %s: lease lost; the result will be discarded", self.run.submission_id)
                    return
        finally:
            connection.close()


def _holds_lease(run: GradingRun, submission: Submission) -> bool:
    """Regrade runs are not leased (a regrade job tracks its own runs); a first grading is saved only by
    the attempt holding the submission's lease."""
    return run.regrade_id is not None or submission.lease_attempt == run.attempt_id


def _release_lease(submission: Submission) -> None:
    submission.lease_attempt, submission.lease_worker, submission.lease_expires_at = None, "", None


def submission_grade(*, submission_id: int, version: GraderVersion | None = None, regrade: RegradeJob | None = None):
    """Grade a submission in the sandbox and save the result in one transaction.

    Infrastructure failures (engine down, container failed to start) undo the run and re-raise
    sandbox.InfrastructureError so the task retries; the learner's own failures are results."""
    run = _run_start(submission_id=submission_id, version=version, regrade=regrade)
    if run is None:
        return None
    submission, version = run.submission, run.grader_version
    try:
        with _LeaseKeeper(run):
            report, image = runner.grade_with_sandbox(
                assignment=submission.assignment,
                starter=version.starter,
                tests=_tests_of(version),
                locked_hashes=version.locked_hashes,
                notebook=notebook_load(submission.notebook_path),
            )
    except sandbox.InfrastructureError:
        with transaction.atomic():
            current = Submission.objects.select_for_update().get(pk=submission.pk)
            GradingRun.objects.filter(pk=run.pk).delete()
            if regrade is None and _holds_lease(run, current):
                current.status = Submission.Status.QUEUED
                _release_lease(current)
                current.save(
                    update_fields=["status", "lease_attempt", "lease_worker", "lease_expires_at", "updated_at"]
                )
        raise
    except Exception:  # a bug of ours must end as a visible error, never a stuck "running"
        _run_fail(run, learner_message="Grading failed on our side. Staff have been told; you may resubmit.")
        raise
    try:
        return _run_finish(run, report, image)
    except Exception:  # saving failed: the run must still end, visibly
        _run_fail(run, learner_message="Grading failed on our side. Staff have been told; you may resubmit.")
        raise


def _storable(value):
    """PostgreSQL refuses NUL in text and jsonb; learner output may contain it (print(chr(0)))."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    return value


def submission_mark_failed(*, submission_id: int, reason: str) -> None:
    """After the last retry: the submission ends in 'error' with a message, and is queued again by beat as
    soon as a grading host's engine answers (submissions_requeue_engine_failures)."""
    now = timezone.now()
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id)
        if submission.status in {Submission.Status.GRADED, Submission.Status.ERROR}:
            return
        if (
            submission.status == Submission.Status.RUNNING
            and submission.lease_expires_at
            and submission.lease_expires_at > now
        ):
            return  # another attempt (on a host whose engine answers) is grading it
        run = GradingRun.objects.create(
            submission=submission,
            grader_version=submission.assignment.current_version,
            status=GradingRun.Status.ERROR,
            error_message="We could not grade this submission yet: the grading service is unavailable. It will "
            "be graded automatically as soon as the service is back; you do not need to resubmit.",
            log=reason,
            started_at=now,
            finished_at=now,
            worker=worker_id(),
        )
        submission.status = Submission.Status.ERROR
        submission.latest_run = run
        submission.engine_failed_at = now
        _release_lease(submission)
        submission.save()


def _run_fail(run: GradingRun, *, learner_message: str) -> None:
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=run.submission_id)
        held = _holds_lease(run, submission)
        run.status = GradingRun.Status.ERROR if held else GradingRun.Status.ABANDONED
        run.error_message = learner_message if held else ""
        run.log = _storable(traceback.format_exc()[-20_000:])
        run.finished_at = timezone.now()
        run.save()
        if run.regrade_id is None and held:
            submission.status, submission.latest_run = Submission.Status.ERROR, run
            _release_lease(submission)
            submission.save()


def _run_finish(run: GradingRun, report: GradeReport, image: str) -> GradingRun:
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=run.submission_id)
        if not _holds_lease(run, submission):
            # The lease expired and was taken back (beat) or claimed by another attempt: the database
            # says this attempt no longer owns the submission, so its result is not saved.
            run.status, run.finished_at = GradingRun.Status.ABANDONED, timezone.now()
            run.log = "This attempt lost its lease before it finished; its result was discarded."
            run.save(update_fields=["status", "finished_at", "log"])
            log.warning("grading %s: result of attempt %s refused (lease lost)", run.submission_id, run.attempt_id)
            return run
        run.status = GradingRun.Status.GRADED
        run.score, run.max_score = report.score, report.max_score
        run.tests = _storable(
            [{**t.for_learner(), "kind": t.kind, "staff_message": t.message} for t in report.tests]
        )  # staff_message: full text, never shown to learners for hidden tests
        run.flags = _storable(report.flags)
        run.cells = _storable([
            {"index": c.index, "key": c.key, "status": c.status, "outputs": c.outputs, "duration_s": c.duration_s,
             "error": c.error, "replaced": c.replaced}
            for c in report.cells
        ])  # fmt: skip
        run.execution_seconds = report.execution_time  # the learner phase only, rounded: learners see it
        run.log = _storable(report.log)  # staff only: the hidden phase's time and flags
        run.image_tag = image
        run.finished_at = timezone.now()
        run.save()
        if run.regrade_id is None or run.grader_version_id == submission.assignment.current_version_id:
            submission.status = Submission.Status.GRADED
            submission.score, submission.max_score = report.score, report.max_score
            submission.latest_run = run
            if run.regrade_id is None:
                _release_lease(submission)
            submission.save()
        if submission.status == Submission.Status.GRADED:
            # What the grade means for the learner (progress, completion, certificate, or a regression
            # flagged for staff) is a queued, idempotent task sent after this commit: nothing it does
            # can turn this saved grade into an error.
            courses.graded_result_changed(
                user_id=submission.learner_id,
                item_id=submission.assignment.item_id,
                detail=f"After a regrade the best score on “{submission.assignment.item.title}” is below the pass "
                f"mark ({submission.assignment.pass_percent}%): attempt {submission.attempt} now scores "
                f"{submission.score:g}/{submission.max_score:g}.",
            )
    return run


# ---------------------------------------------------------------------------------------------
# Hints


class HintRefused(Exception):
    """No further hint can be opened; the message says why."""


def hint_reveal(*, submission: Submission, learner, test_name: str) -> int:
    """Open the next hint of a test the learner's submission failed; returns how many are open now.

    Hints are a ladder: one more each time, never more than the test has. The count is kept per learner
    and test (the gradebook shows it), so a later attempt starts with the hints already opened."""
    if submission.learner_id != learner.pk:
        raise HintRefused("Only the learner who submitted can open hints.")
    run = submission.latest_run
    result = next((t for t in (run.tests if run else []) if t.get("name") == test_name), None)
    if result is None or result.get("status") not in ("failed", "not_run"):
        raise HintRefused("Hints open after a test has failed.")
    ladder = selectors.hint_ladder(version=run.grader_version, test_name=test_name)
    if not ladder:
        raise HintRefused("This test has no hints.")
    with transaction.atomic():
        reveal, _ = HintReveal.objects.select_for_update().get_or_create(
            assignment_id=submission.assignment_id, learner=learner, test_name=test_name
        )
        if reveal.count < len(ladder):
            reveal.count += 1
            reveal.save(update_fields=["count", "updated_at"])
    return reveal.count


# ---------------------------------------------------------------------------------------------
# Grader versions


def _content_hash(starter: dict, solution: dict, tests: list[dict]) -> str:
    payload = json.dumps([starter, solution, tests], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


@transaction.atomic
def grader_version_create(*, assignment: Assignment, bundle: AssignmentBundle, notes: str = "") -> GraderVersion:
    """A new draft version from an imported bundle (or the existing draft, when nothing changed)."""
    try:
        bundle.validate()
    except SpecError as exc:
        raise PublishError(str(exc)) from exc
    tests = [t.to_dict() for t in bundle.tests]
    digest = _content_hash(bundle.starter, bundle.solution, tests)
    latest = assignment.versions.select_for_update().order_by("-number").first()
    if latest is not None and latest.content_hash == digest:
        return latest
    return GraderVersion.objects.create(
        assignment=assignment,
        number=(latest.number + 1) if latest else 1,
        source_format=bundle.source_format,
        starter=bundle.starter,
        solution=bundle.solution,
        tests=tests,
        locked_hashes=locked_cell_hashes(bundle.starter),
        content_hash=digest,
        notes=notes,
    )


def grader_version_self_check(*, version: GraderVersion) -> dict:
    """Run the reference solution (it must score full marks) and the starter (it must not) in the sandbox.

    Expected values of expression tests are computed from the reference solution here."""
    tests = _tests_of(version)
    solution_report, image = runner.grade_with_sandbox(
        assignment=version.assignment,
        starter=version.starter,
        tests=tests,
        locked_hashes=version.locked_hashes,
        notebook=version.solution,
        collect_expected=True,
        warm=False,
    )
    for spec, result in zip(tests, solution_report.tests, strict=True):
        if spec.kind == "expr" and result.passed:
            from .engine import encode_value

            spec.expected, spec.has_expected = encode_value(result.value), True
    starter_report, _ = runner.grade_with_sandbox(
        assignment=version.assignment,
        starter=version.starter,
        tests=tests,
        locked_hashes=version.locked_hashes,
        notebook=version.starter,
        warm=False,
    )
    problems = [
        f"The reference solution fails “{t.name}”: {t.message}"
        for t in solution_report.tests
        if t.status in {"failed", "not_run"}
    ]
    if starter_report.max_score and starter_report.score >= starter_report.max_score:
        problems.append("The starter notebook already passes every test: the tests check nothing the learner writes.")
    from .engine import empty_pass_warnings

    warnings = [
        f"“{t.name}”: `{assertion}` would pass on an empty array; check the shape first "
        "(`assert result.shape == ...`). The grader fails empty comparisons of learner arrays either way."
        for t in tests
        if t.kind != "manual"
        for assertion in empty_pass_warnings(t.code)
    ]
    solution = {
        "score": solution_report.score,
        "max_score": solution_report.max_score,
        "tests": [{"name": t.name, "passed": t.passed, "message": t.message} for t in solution_report.tests],
        "cells": [{"index": c.index, "status": c.status, "error": c.error} for c in solution_report.cells],
    }
    return {
        "ok": not problems,
        "problems": problems,
        "warnings": warnings,
        "image": image,
        "checked_at": timezone.now().isoformat(),
        "solution": solution,
        "starter": {"score": starter_report.score, "max_score": starter_report.max_score},
        "tests": [t.to_dict() for t in tests],
    }


def grader_version_publish_queue(*, version: GraderVersion) -> GraderVersion:
    """Staff asked to publish: mark the version "self-check running" and run the self-check and publish
    in a worker (two sandbox runs can take minutes; never inside a request). The publish page follows it."""
    if version.status in (GraderVersion.Status.PUBLISHED, GraderVersion.Status.CHECKING):
        return version
    GraderVersion.objects.filter(pk=version.pk).update(status=GraderVersion.Status.CHECKING)
    version.status = GraderVersion.Status.CHECKING
    transaction.on_commit(lambda: _enqueue_publish(version.pk))
    return version


def _enqueue_publish(version_id: int) -> None:
    from .tasks import publish_grader_version

    publish_grader_version.delay(version_id)


def grader_version_publish_gave_up(*, version_id: int, reason: str) -> None:
    """The sandbox stayed unreachable through every retry: back to draft, with the reason for staff."""
    GraderVersion.objects.filter(pk=version_id).exclude(status=GraderVersion.Status.PUBLISHED).update(
        status=GraderVersion.Status.DRAFT,
        self_check={"ok": False, "problems": [f"The sandbox was not available, so nothing was checked: {reason}"]},
    )


def grader_version_publish(*, version: GraderVersion) -> GraderVersion:
    """Self-check, then publish (the version becomes immutable and current). A failing self-check
    blocks publishing and is kept on the version so staff see why."""
    if version.status == GraderVersion.Status.PUBLISHED:
        return version
    try:
        [TestSpec.from_dict(t) for t in version.tests]  # tests edited by hand are checked first
    except SpecError as exc:
        GraderVersion.objects.filter(pk=version.pk).update(status=GraderVersion.Status.FAILED)
        raise PublishError(f"The tests are invalid: {exc}") from exc
    GraderVersion.objects.filter(pk=version.pk).update(status=GraderVersion.Status.CHECKING)
    try:
        report = grader_version_self_check(version=version)
    except sandbox.InfrastructureError:
        GraderVersion.objects.filter(pk=version.pk).update(status=GraderVersion.Status.DRAFT)
        raise
    except Exception as exc:  # never leave a version "checking" forever
        GraderVersion.objects.filter(pk=version.pk).update(
            status=GraderVersion.Status.FAILED, self_check={"ok": False, "problems": [f"{type(exc).__name__}: {exc}"]}
        )
        raise PublishError(f"The self-check could not finish: {type(exc).__name__}: {exc}") from exc
    with transaction.atomic():
        version = GraderVersion.objects.select_for_update().get(pk=version.pk)
        tests = report.pop("tests")
        version.self_check = report
        version.image_tag = report["image"]
        if not report["ok"]:
            version.status = GraderVersion.Status.FAILED
            version.save()
        else:
            version.tests = tests  # now with expected values; frozen from here on
            version.status = GraderVersion.Status.PUBLISHED
            version.published_at = timezone.now()
            version.save()
            Assignment.objects.filter(pk=version.assignment_id).update(current_version=version)
    if not report["ok"]:  # raised after the commit, so the failed report is kept for staff to read
        raise PublishError("Self-check failed: " + " ".join(report["problems"]))
    return version


# ---------------------------------------------------------------------------------------------
# Regrades


def regrade_create(*, assignment: Assignment, version: GraderVersion, by, submission_ids: list[int] | None = None):
    if not GraderVersion.objects.filter(pk=version.pk, status=GraderVersion.Status.PUBLISHED).exists():
        raise PublishError("Only a published grader version can regrade submissions.")
    ids = submission_ids or list(assignment.submissions.order_by("pk").values_list("pk", flat=True))
    job = RegradeJob.objects.create(
        assignment=assignment, grader_version=version, created_by=by, total=len(ids), submission_ids=ids
    )
    transaction.on_commit(lambda: _enqueue_regrade(job.pk))
    return job


def _enqueue_regrade(job_id: int) -> None:
    from .tasks import run_regrade

    run_regrade.delay(job_id)


def regrade_pending_ids(*, job: RegradeJob) -> list[int]:
    """Submissions of the job without a finished run yet (a killed worker's run does not count)."""
    ended = job.runs.filter(status__in=[GradingRun.Status.GRADED, GradingRun.Status.ERROR])
    finished = set(ended.values_list("submission_id", flat=True))
    return [pk for pk in job.submission_ids if pk not in finished]


def regrade_submission(*, job_id: int, submission_id: int) -> None:
    """Grade one submission of a regrade job (one Celery task each, so jobs run in parallel and a
    redelivered task does no work twice)."""
    job = RegradeJob.objects.select_related("grader_version").get(pk=job_id)
    if submission_id in regrade_pending_ids(job=job) and Submission.objects.filter(pk=submission_id).exists():
        RegradeJob.objects.filter(pk=job.pk, status=RegradeJob.Status.QUEUED).update(status=RegradeJob.Status.RUNNING)
        try:
            submission_grade(submission_id=submission_id, version=job.grader_version, regrade=job)
        except sandbox.InfrastructureError:
            raise
        except Exception:  # the run is saved as an error; the job goes on
            log.exception("regrade %s: submission %s failed", job.pk, submission_id)
    regrade_update_progress(job_id=job.pk)


def regrade_record_failure(*, job_id: int, submission_id: int, reason: str) -> None:
    """After the last retry of an infrastructure fault: count the submission as failed in the job."""
    job = RegradeJob.objects.get(pk=job_id)
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is not None and submission_id in regrade_pending_ids(job=job):
        now = timezone.now()
        GradingRun.objects.create(
            submission=submission, grader_version=job.grader_version, regrade=job, status=GradingRun.Status.ERROR,
            log=_storable(reason), started_at=now, finished_at=now,
        )  # fmt: skip
    regrade_update_progress(job_id=job_id)


def regrade_update_progress(*, job_id: int) -> RegradeJob:
    with transaction.atomic():
        job = RegradeJob.objects.select_for_update().get(pk=job_id)
        existing = set(Submission.objects.filter(pk__in=job.submission_ids).values_list("pk", flat=True))
        runs = job.runs.filter(submission_id__in=existing)
        job.done = runs.filter(status=GradingRun.Status.GRADED).values("submission").distinct().count()
        job.failed = runs.filter(status=GradingRun.Status.ERROR).values("submission").distinct().count()
        job.total = len(existing)  # a deleted submission no longer counts
        if job.done + job.failed >= job.total and job.status != RegradeJob.Status.DONE:
            job.status, job.finished_at = RegradeJob.Status.DONE, timezone.now()
        job.save()
    return job


def regrade_run(*, job_id: int) -> RegradeJob:
    """Run a whole job in this process (the command line and tests; the task fans out instead)."""
    job = RegradeJob.objects.get(pk=job_id)
    for submission_id in regrade_pending_ids(job=job):
        regrade_submission(job_id=job.pk, submission_id=submission_id)
    return regrade_update_progress(job_id=job.pk)
