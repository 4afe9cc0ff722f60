"""Writes for notebook grading: submissions, grading runs, grader versions (publish + self-check), regrades."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import traceback

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from access import api as access
from courses import api as courses

from . import runner, sandbox, selectors
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
        raise SubmissionRejected("This assignment is not open for submissions yet.")
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
        if assignment.max_attempts is not None and count >= assignment.max_attempts:
            raise SubmissionRejected(f"You have used all {assignment.max_attempts} attempts for this assignment.")
        last = previous.first()
        if last and (ready_at := selectors.next_submission_at(assignment=assignment, last=last, now=now)):
            minutes = max(1, round((ready_at - now).total_seconds() / 60))
            raise SubmissionRejected(f"You can submit again in {minutes} minute{'s' if minutes != 1 else ''}.")
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


def _enqueue(submission_id: int) -> None:
    from .tasks import grade_submission

    grade_submission.delay(submission_id)


def submissions_requeue_stale(*, now: datetime.datetime | None = None, queued_after_s: int = 300) -> int:
    """Put back in the queue what a lost message or a killed worker left behind.

    Queued for longer than `queued_after_s` (the message was lost, e.g. the broker was down at submit
    time), or running for longer than the assignment's time limit plus a margin (the worker died): the
    orphaned run is closed as an error in the history and the submission is queued again."""
    now = now or timezone.now()
    requeued = []
    stale_queued = Submission.objects.filter(
        status=Submission.Status.QUEUED, updated_at__lt=now - datetime.timedelta(seconds=queued_after_s)
    )
    running = Submission.objects.filter(status=Submission.Status.RUNNING).select_related("assignment")
    with transaction.atomic():
        for submission in stale_queued.select_for_update(skip_locked=True):
            submission.save(update_fields=["updated_at"])  # restart its clock
            requeued.append(submission.pk)
        for submission in running.select_for_update(skip_locked=True, of=("self",)):
            limit = submission.assignment.time_limit_seconds + runner.STALE_MARGIN_SECONDS
            if submission.updated_at > now - datetime.timedelta(seconds=limit):
                continue
            submission.runs.filter(status=GradingRun.Status.RUNNING).update(
                status=GradingRun.Status.ERROR, finished_at=now, log="The worker stopped before finishing this run."
            )
            submission.status = Submission.Status.QUEUED
            submission.save(update_fields=["status", "updated_at"])
            requeued.append(submission.pk)
        for pk in requeued:
            transaction.on_commit(lambda pk=pk: _enqueue(pk), robust=True)
    return len(requeued)


def _tests_of(version: GraderVersion) -> list[TestSpec]:
    return [TestSpec.from_dict(t) for t in version.tests]


@transaction.atomic
def _run_start(*, submission_id: int, version: GraderVersion | None, regrade: RegradeJob | None) -> GradingRun | None:
    submission = Submission.objects.select_for_update().select_related("assignment").get(pk=submission_id)
    if regrade is None and submission.status == Submission.Status.GRADED:
        return None  # a redelivered task: this submission was graded already
    version = version or submission.assignment.current_version
    run = GradingRun.objects.create(
        submission=submission, grader_version=version, regrade=regrade, started_at=timezone.now()
    )
    if regrade is None:
        submission.status = Submission.Status.RUNNING
        submission.save(update_fields=["status", "updated_at"])
    return run


def submission_grade(*, submission_id: int, version: GraderVersion | None = None, regrade: RegradeJob | None = None):
    """Grade a submission in the sandbox and save the result in one transaction.

    Infrastructure failures (engine down, container failed to start) undo the run and re-raise
    sandbox.InfrastructureError so the task retries; the learner's own failures are results."""
    run = _run_start(submission_id=submission_id, version=version, regrade=regrade)
    if run is None:
        return None
    submission, version = run.submission, run.grader_version
    try:
        report, image = runner.grade_with_sandbox(
            assignment=submission.assignment,
            starter=version.starter,
            tests=_tests_of(version),
            locked_hashes=version.locked_hashes,
            notebook=notebook_load(submission.notebook_path),
        )
    except sandbox.InfrastructureError:
        with transaction.atomic():
            GradingRun.objects.filter(pk=run.pk).delete()
            if regrade is None:
                Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.QUEUED)
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
    """After the last retry: the submission ends in 'error' with a message; it can be regraded later."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id)
        if submission.status in {Submission.Status.GRADED, Submission.Status.ERROR}:
            return
        run = GradingRun.objects.create(
            submission=submission,
            grader_version=submission.assignment.current_version,
            status=GradingRun.Status.ERROR,
            error_message="We could not grade this submission: the grading service is unavailable. Staff have "
            "been told and will regrade it; you do not need to resubmit.",
            log=reason,
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )
        submission.status = Submission.Status.ERROR
        submission.latest_run = run
        submission.save(update_fields=["status", "latest_run", "updated_at"])


def _run_fail(run: GradingRun, *, learner_message: str) -> None:
    with transaction.atomic():
        run.status = GradingRun.Status.ERROR
        run.error_message = learner_message
        run.log = _storable(traceback.format_exc()[-20_000:])
        run.finished_at = timezone.now()
        run.save()
        if run.regrade_id is None:
            Submission.objects.filter(pk=run.submission_id).update(
                status=Submission.Status.ERROR, latest_run=run, updated_at=timezone.now()
            )


def _run_finish(run: GradingRun, report: GradeReport, image: str) -> GradingRun:
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=run.submission_id)
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
            submission.save(update_fields=["status", "score", "max_score", "latest_run", "updated_at"])
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
    finished = set(job.runs.exclude(status=GradingRun.Status.RUNNING).values_list("submission_id", flat=True))
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
