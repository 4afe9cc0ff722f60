"""nbgrader source notebooks → AssignmentBundle, releasing the starter the way `nbgrader generate_assignment` does.

Cell metadata `nbgrader` (schema 3): grade_id, points, solution, grade, locked, task. Solution regions
(`### BEGIN SOLUTION` / `### END SOLUTION`, code or Markdown) become `# YOUR CODE HERE` /
`YOUR ANSWER HERE` stubs; a solution cell without markers is replaced whole; hidden test regions
(`### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`) leave the starter but stay in the test's code.
A test's hints come from its released part only: the docstring's first line, then each `# HINT: ...`
comment line, revealed to a learner one at a time after the test failed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from grading.spec import AssignmentBundle, TestSpec

from .common import (
    KEY_RE,
    BundleError,
    KeyMaker,
    clean_code_cell,
    finish_notebook,
    nbformat_id,
    read_notebook,
    set_mooc,
    validated,
)

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
SOLUTION = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MARK_SCHEME = ("BEGIN MARK SCHEME", "END MARK SCHEME")
ALL_MARKERS = (*SOLUTION, *HIDDEN, *MARK_SCHEME)
AUTOTEST_RE = re.compile(r"^\s*#+\s*(HASHED\s+)?AUTOTEST\b")
HINT_RE = re.compile(r"^\s*#\s*HINT\s*:(.*)$", re.IGNORECASE)


def _marker(line: str) -> str | None:
    """The marker on this line (`### BEGIN SOLUTION`, `=== BEGIN MARK SCHEME ===`), else None."""
    text = line.strip().strip("#=").strip()
    if text in ALL_MARKERS:
        return text
    return None


class _Cell:
    def __init__(self, path: Path, index: int, cell: dict):
        self.path = path
        self.index = index
        self.cell = cell
        self.lines = cell["source"].split("\n")

    def error(self, message: str, line: int | None = None) -> BundleError:
        return BundleError(self.path, message, cell=self.index, line=line)

    def regions(self, begin: str, end: str) -> list[tuple[str, int, str]]:
        """Classify each line: ('begin'|'end'|'in'|'out', line number, text); checks the markers balance."""
        out, start = [], None
        for number, line in enumerate(self.lines, 1):
            marker = _marker(line)
            if marker is None and (begin in line or end in line):
                raise self.error(f"{line.strip()!r} mentions {begin.split()[1].lower()} markers but is not one", number)
            if marker == begin:
                if start is not None:
                    raise self.error(f"nested '{begin}' (the region opened on line {start} is not closed)", number)
                start = number
                out.append(("begin", number, line))
            elif marker == end:
                if start is None:
                    raise self.error(f"'{end}' without a matching '{begin}'", number)
                start = None
                out.append(("end", number, line))
            else:
                out.append(("in" if start is not None else "out", number, line))
        if start is not None:
            raise self.error(f"'{begin}' is never closed by '{end}'", start)
        return out

    def has(self, begin: str) -> bool:
        return any(_marker(line) == begin for line in self.lines)


def _stub_regions(cell: _Cell, stub: str) -> tuple[str, bool]:
    new, replaced = [], False
    for kind, _, line in cell.regions(*SOLUTION):
        if kind == "begin":
            replaced = True
            indent = re.match(r"\s*", line).group(0)
            new.extend(indent + stub_line for stub_line in stub.split("\n"))
        elif kind == "out":
            new.append(line)
    return "\n".join(new), replaced


def _drop_markers(cell: _Cell, pair: tuple[str, str]) -> str:
    return "\n".join(line for kind, _, line in cell.regions(*pair) if kind in ("in", "out"))


def _drop_regions(cell: _Cell, pair: tuple[str, str]) -> str:
    return "\n".join(line for kind, _, line in cell.regions(*pair) if kind == "out")


def _points(cell: _Cell, meta: dict) -> float:
    points = meta.get("points")
    if isinstance(points, str):
        try:
            points = float(points)
        except ValueError:
            points = None
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise cell.error(f"graded cell {meta.get('grade_id')!r} needs 'points', a number >= 0")
    return float(points)


def _docstring_hint(code: str) -> str:
    try:
        doc = ast.get_docstring(ast.parse(code))
    except SyntaxError:
        return ""
    return doc.strip().split("\n")[0][:200] if doc else ""


def _hint_ladder(code: str) -> list[str]:
    """Further hints: `# HINT: ...` comment lines, in order (a learner reveals them one at a time)."""
    return [m.group(1).strip()[:500] for line in code.split("\n") if (m := HINT_RE.match(line)) and m.group(1).strip()]


def load(path: Path) -> AssignmentBundle:
    path = Path(path)
    source_nb = read_notebook(path)
    keys = KeyMaker(path)
    starter_cells, solution_cells, tests = [], [], []
    seen_nbgrader = False
    for index, raw_cell in enumerate(source_nb["cells"]):
        cell = _Cell(path, index, raw_cell)
        meta = raw_cell["metadata"].get("nbgrader")
        if meta is not None and not isinstance(meta, dict):
            raise cell.error("'nbgrader' metadata must be a mapping")
        meta = meta or {}
        if "checksum" in meta:
            raise cell.error(
                "this is a released or submitted notebook (nbgrader checksums present): import the source notebook"
            )
        solution, grade = bool(meta.get("solution")), bool(meta.get("grade"))
        locked, task = bool(meta.get("locked")), bool(meta.get("task"))
        cell_type = raw_cell["cell_type"]
        if cell_type not in ("code", "markdown") and (solution or grade or task):
            raise cell.error(f"a {cell_type} cell cannot be an nbgrader solution, test or task cell")
        graded = solution or grade or locked or task
        seen_nbgrader = seen_nbgrader or graded
        if graded:
            grade_id = meta.get("grade_id")
            if not isinstance(grade_id, str) or not grade_id.strip():
                raise cell.error("nbgrader cell without a 'grade_id'")
            key = keys.explicit(grade_id.strip(), cell=index)
        elif (cell_id := nbformat_id(raw_cell)) is not None and cell_id not in keys.used and KEY_RE.match(cell_id):
            key = keys.explicit(cell_id, cell=index)
        else:
            key = keys.generated()

        if (cell.has(SOLUTION[0]) or cell.has(SOLUTION[1])) and not solution:
            raise cell.error("solution region in a cell that is not marked as an nbgrader solution cell")
        if (cell.has(HIDDEN[0]) or cell.has(HIDDEN[1])) and not (grade and not solution):
            raise cell.error("hidden test region in a cell that is not an nbgrader test (autograder tests) cell")
        if (cell.has(MARK_SCHEME[0]) or cell.has(MARK_SCHEME[1])) and not task:
            raise cell.error("mark scheme region in a cell that is not an nbgrader task cell")
        if task and (solution or grade):
            raise cell.error("an nbgrader task cell cannot also be a solution or test cell")
        if task and cell_type != "markdown":
            raise cell.error("an nbgrader task cell must be a Markdown cell")
        if solution and locked:
            raise cell.error("a solution cell cannot be locked")
        if grade and not solution and cell_type == "markdown":
            raise cell.error("a Markdown test cell must also be a solution cell (manually graded answer)")

        starter = clean_code_cell(raw_cell)
        answer = clean_code_cell(raw_cell)
        role, lock = "", locked
        if solution:
            stub = CODE_STUB if cell_type == "code" else TEXT_STUB
            starter["source"], replaced = _stub_regions(cell, stub)
            if not replaced:
                starter["source"] = stub
            answer["source"] = _drop_markers(cell, SOLUTION)
            if grade:
                tests.append(
                    TestSpec(
                        name=key, points=_points(cell, meta), code="", kind="manual", visibility="public", after=key
                    )
                )
        elif grade:
            if any(AUTOTEST_RE.match(line) for line in cell.lines):
                raise cell.error("nbgrader AUTOTEST directives are not supported: write the asserts out")
            full = _drop_markers(cell, HIDDEN)
            hidden = cell.has(HIDDEN[0])
            starter["source"] = _drop_regions(cell, HIDDEN)
            answer["source"] = full
            role, lock = "test", True
            # Hints come from what learners are given, never from the hidden region (which may itself
            # start with a docstring).
            released = starter["source"]
            tests.append(
                TestSpec(
                    name=key,
                    points=_points(cell, meta),
                    code=full,
                    kind="assert",
                    visibility="hidden" if hidden else "public",
                    hint=_docstring_hint(released),
                    hints=_hint_ladder(released),
                    after=key,
                )
            )
        elif task:
            starter["source"] = _drop_regions(cell, MARK_SCHEME)
            answer["source"] = _drop_markers(cell, MARK_SCHEME)
            lock = True
            tests.append(
                TestSpec(name=key, points=_points(cell, meta), code="", kind="manual", visibility="public", after=key)
            )
        starter_cells.append(set_mooc(starter, key, role=role, locked=lock))
        solution_cells.append(set_mooc(answer, key, role=role, locked=lock))

    if not seen_nbgrader:
        raise BundleError(path, "no cell has nbgrader metadata: this is not an nbgrader source notebook")
    bundle = AssignmentBundle(
        title=path.stem.replace("_", " ").replace("-", " ").strip() or path.stem,
        starter=finish_notebook(source_nb, starter_cells),
        solution=finish_notebook(source_nb, solution_cells),
        tests=tests,
        source_format="nbgrader",
    )
    return validated(path, bundle)
