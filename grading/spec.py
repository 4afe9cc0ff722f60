"""The grader specification: what an assignment's grader is, independent of where it came from.

An importer (our pack format, nbgrader, Otter-Grader) produces an `AssignmentBundle`: the starter
notebook learners download, the reference solution, and the tests. Tests are Python source that
runs in the TRUSTED process (the worker), never in the learner's kernel; names the test reads that
the learner's notebook defines are fetched from the kernel as plain data, and the learner's
functions are called remotely with plain-data arguments (see grading/engine.py).

Test kinds:
  assert  the code runs; the test passes when it raises nothing (nbgrader cells, our pack tests).
  expr    the value of the code's last expression must equal the value the same code gives against
          the reference solution; that expected value is computed when the grader version is
          published (Otter's expression tests map onto this directly).
  manual  graded by a person; carries points but is never scored automatically.

Cells are matched between the starter, the solution and a learner's notebook by a key kept in the
cell metadata (`metadata.mooc.key`; nbgrader's `grade_id` and nbformat cell ids are used when an
importer finds them). A cell whose `metadata.mooc.role` is "test" is a placeholder for tests
(learner-visible asserts, `grader.check("q1")`): during grading it is not run in the kernel; the
tests placed after it run at that point instead. A cell with `metadata.mooc.locked` must not be
changed by the learner (checked against its hash in the released notebook).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Literal

TestKind = Literal["assert", "expr", "manual"]
Visibility = Literal["public", "hidden"]
KINDS = ("assert", "expr", "manual")
VISIBILITIES = ("public", "hidden")


class SpecError(ValueError):
    """The grader specification is invalid; the message says where and why."""


@dataclasses.dataclass
class TestSpec:
    __test__ = False  # not a pytest test class

    name: str
    points: float
    code: str
    kind: TestKind = "assert"
    visibility: Visibility = "public"
    hint: str = ""
    # Run right after the learner's cell with this key; None: after the whole notebook.
    after: str | None = None
    success_message: str = ""
    failure_message: str = ""
    # Tests sharing a non-empty group score all or nothing: each earns its points only when every test of
    # the group passes (Otter's `all_or_nothing` questions). Left out of to_dict() when empty.
    group: str = ""
    # The question the test belongs to (Otter's `grader.check("q1")` reports per question). Optional.
    question: str = ""
    # More hints after `hint`, revealed one at a time by a learner whose test failed (a ladder: vaguer
    # first). Left out of to_dict() when empty.
    hints: list[str] = dataclasses.field(default_factory=list)
    # expr tests: the value computed from the reference solution at publish time (plain data).
    expected: Any = None
    has_expected: bool = False

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        for optional in ("group", "question", "hints"):
            if not data[optional]:
                data.pop(optional)
        if not self.has_expected:
            data.pop("expected")
            data.pop("has_expected")
        return data

    @property
    def hint_ladder(self) -> list[str]:
        """Every hint of the test, in the order a learner reveals them."""
        return ([self.hint] if self.hint.strip() else []) + list(self.hints)

    @classmethod
    def from_dict(cls, data: dict) -> TestSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SpecError(f"test {data.get('name', '?')!r}: unknown field(s) {', '.join(sorted(unknown))}")
        spec = cls(**data)
        spec.validate()
        return spec

    def validate(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SpecError("every test needs a name")
        if self.kind not in KINDS:
            raise SpecError(f"test {self.name!r}: kind must be one of {', '.join(KINDS)}")
        if self.visibility not in VISIBILITIES:
            raise SpecError(f"test {self.name!r}: visibility must be public or hidden")
        if not isinstance(self.group, str) or not isinstance(self.question, str):
            raise SpecError(f"test {self.name!r}: group and question must be text")
        if not isinstance(self.hint, str) or not (
            isinstance(self.hints, list) and all(isinstance(h, str) and h.strip() for h in self.hints)
        ):
            raise SpecError(f"test {self.name!r}: hint must be text and hints a list of non-empty texts")
        if isinstance(self.points, bool) or not isinstance(self.points, (int, float)) or self.points < 0:
            raise SpecError(f"test {self.name!r}: points must be a number >= 0")
        if not isinstance(self.code, str) or (self.kind != "manual" and not self.code.strip()):
            raise SpecError(f"test {self.name!r}: code must not be empty")
        if self.kind != "manual":
            try:
                compile(self.code, f"<test {self.name}>", "exec")
            except SyntaxError as exc:
                raise SpecError(f"test {self.name!r}: syntax error on line {exc.lineno}: {exc.msg}") from exc


@dataclasses.dataclass
class AssignmentBundle:
    """What an importer produces and a grader version stores."""

    title: str
    starter: dict  # nbformat v4 notebook (JSON) that learners download
    solution: dict  # the reference solution, same cells with the answers filled in
    tests: list[TestSpec]
    instructions: str = ""  # Markdown shown above the notebook
    source_format: str = "pack"  # pack | nbgrader | otter

    def validate(self) -> None:
        names = [t.name for t in self.tests]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise SpecError(f"test names must be unique: {', '.join(sorted(duplicates))}")
        for test in self.tests:
            test.validate()
        keys = {cell_key(c) for c in self.starter.get("cells", [])} - {None}
        for test in self.tests:
            if test.after is not None and test.after not in keys:
                raise SpecError(
                    f"test {test.name!r} is placed after cell {test.after!r}, which the starter does not have"
                )
        if not any(t.kind != "manual" for t in self.tests):
            raise SpecError("the grader has no automatically graded test")

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.tests if t.kind != "manual")


def cell_key(cell: dict) -> str | None:
    """The stable identity of a notebook cell across starter, solution and submissions."""
    metadata = cell.get("metadata") or {}
    mooc = metadata.get("mooc") or {}
    if isinstance(mooc, dict) and isinstance(mooc.get("key"), str):
        return mooc["key"]
    nbgrader = metadata.get("nbgrader") or {}
    if isinstance(nbgrader, dict) and isinstance(nbgrader.get("grade_id"), str):
        return nbgrader["grade_id"]
    cell_id = cell.get("id")
    return cell_id if isinstance(cell_id, str) else None


def cell_role(cell: dict) -> str:
    mooc = (cell.get("metadata") or {}).get("mooc") or {}
    return mooc.get("role", "") if isinstance(mooc, dict) else ""


def cell_locked(cell: dict) -> bool:
    metadata = cell.get("metadata") or {}
    mooc = metadata.get("mooc") or {}
    nbgrader = metadata.get("nbgrader") or {}
    return bool(
        (isinstance(mooc, dict) and mooc.get("locked")) or (isinstance(nbgrader, dict) and nbgrader.get("locked"))
    )


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def source_hash(source: str) -> str:
    # Line endings and trailing white space do not count as changes.
    normalised = "\n".join(line.rstrip() for line in source.replace("\r\n", "\n").strip().split("\n"))
    return hashlib.sha256(normalised.encode()).hexdigest()


def locked_cell_hashes(notebook: dict) -> dict[str, str]:
    """Hashes of the released notebook's locked cells, by key (nbgrader's checksum idea)."""
    return {
        key: source_hash(cell_source(cell))
        for cell in notebook.get("cells", [])
        if cell_locked(cell) and (key := cell_key(cell)) is not None
    }
