"""Grade one notebook with the exact production pipeline, in the sandbox, without Celery.

Prints one JSON object, a superset of Gradescope's results.json:
  {"score", "max_score", "status", "tests": [{"name", "passed", "points", "max_points", "score",
   "message", "visibility", "status"}], "flags", "execution_time", "grader_version", "image"}
Exit code 0 when the notebook was graded (whatever the score), 1 when grading itself failed (engine
unreachable, image missing), 2 when the notebook was refused before grading (not a notebook, another
assignment's notebook), with status "rejected" and the reason in "message".
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grading import runner, sandbox
from grading.models import Assignment, GraderVersion
from grading.notebooks import NotebookRejected, notebook_check_belongs, notebook_parse
from grading.spec import TestSpec


class Command(BaseCommand):
    help = "Grade NOTEBOOK against ASSIGNMENT_SLUG's current grader in the sandbox and print the result."

    def add_arguments(self, parser):
        parser.add_argument("assignment", help="The assignment's item slug.")
        parser.add_argument("notebook", type=Path)
        parser.add_argument("--course", help="Course slug, when the assignment slug is used in several courses.")
        parser.add_argument("--grader-version", type=int, help="Grader version number (default: the published one).")
        parser.add_argument("--json", action="store_true", help="Print the JSON result only.")
        parser.add_argument("--staff", action="store_true", help="Include hidden tests' full messages.")

    def handle(self, *args, **options):
        assignment = self._assignment(options["assignment"], options["course"])
        version = self._version(assignment, options["grader_version"])
        try:
            data = options["notebook"].read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {options['notebook']}: {exc}") from exc
        try:
            notebook = notebook_parse(data, limit_bytes=assignment.max_upload_bytes)
            notebook_check_belongs(notebook, assignment_slug=assignment.slug, starter=version.starter)
        except NotebookRejected as exc:
            self._emit({"status": "rejected", "score": 0, "max_score": version.max_points, "message": str(exc),
                        "tests": [], "flags": [], "execution_time": 0}, options)  # fmt: skip
            sys.exit(2)  # not graded: the input was refused (1 is kept for "grading itself failed")
        try:
            report, image = runner.grade_with_sandbox(
                assignment=assignment,
                starter=version.starter,
                tests=[TestSpec.from_dict(t) for t in version.tests],
                locked_hashes=version.locked_hashes,
                notebook=notebook,
                warm=False,
            )
        except sandbox.InfrastructureError as exc:
            self.stderr.write(f"Grading failed: {exc}")
            sys.exit(1)
        tests = []
        for test in report.tests:
            row = test.for_learner()
            row["score"] = row["points"]
            row["visibility"] = "hidden" if test.visibility == "hidden" else "visible"
            if options["staff"]:
                row["message"] = test.message
            tests.append(row)
        result = {
            "score": report.score,
            "max_score": report.max_score,
            "status": report.status,
            "tests": tests,
            "flags": report.flags,
            "execution_time": report.execution_time,
            "grader_version": version.number,
            "image": image,
        }
        self._emit(result, options)

    def _emit(self, result, options):
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{result['status']}: {result['score']} / {result['max_score']}")
        for test in result["tests"]:
            mark = "PASS" if test["passed"] else test["status"].upper()
            self.stdout.write(f"  {mark:8} {test['name']} ({test['points']}/{test['max_points']}) {test['message']}")
        if result.get("message"):
            self.stdout.write(result["message"])

    def _assignment(self, slug, course):
        queryset = Assignment.objects.select_related("item__course", "current_version").filter(item__slug=slug)
        if course:
            queryset = queryset.filter(item__course__slug=course)
        found = list(queryset)
        if not found:
            raise CommandError(f"No assignment with slug {slug!r}.")
        if len(found) > 1:
            courses = ", ".join(a.item.course.slug for a in found)
            raise CommandError(f"{slug!r} exists in several courses ({courses}); add --course.")
        return found[0]

    def _version(self, assignment, number):
        if number is not None:
            version = assignment.versions.filter(number=number).first()
            if version is None:
                raise CommandError(f"{assignment.slug} has no grader version {number}.")
            return version
        if assignment.current_version is not None:
            return assignment.current_version
        draft = assignment.versions.exclude(status=GraderVersion.Status.PUBLISHED).order_by("-number").first()
        if draft is None:
            raise CommandError(f"{assignment.slug} has no grader.")
        self.stderr.write(f"Warning: {assignment.slug} has no published grader; using draft v{draft.number}.")
        return draft
