"""Otter Assign master notebooks (format v1) → AssignmentBundle.

Blocks are raw cells: `# ASSIGNMENT CONFIG`, `# BEGIN QUESTION` (YAML: name, points, manual,
all_or_nothing, check_cell, export), `# BEGIN SOLUTION`, `# BEGIN TESTS`, `# BEGIN PROMPT` and their
`# END ...`. Inside code, `# SOLUTION`, `# SOLUTION NO PROMPT`, `# BEGIN SOLUTION [NO PROMPT]` /
`# END SOLUTION`, triple-quoted `# BEGIN PROMPT` / `# END PROMPT`, `# SEED`, `# IGNORE` and
`# BEGIN IGNORE` / `# END IGNORE` work as in Otter. A test cell is hidden by a first line
`# HIDDEN` or by its triple-quoted `# BEGIN TEST CONFIG` ... `# END TEST CONFIG` block (points,
hidden, name, success_message, failure_message, and our own `hints`: a text or a list revealed to a
learner one at a time after a failure). Points follow Otter's rules: a question's `points` (number, list
per test, or {each: n}) is shared among tests without points of their own; without it, tests without
points get 0 unless no test has points, then the question is worth 1.

Tests run in the trusted process after the notebook (after=None). A test whose code ends with an
expression is an `expr` test (its value must equal the reference solution's, as Otter compares the
doctest output); other tests are `assert` tests.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from courses.api import YamlError, yaml_loads, yaml_plain
from grading.spec import AssignmentBundle, TestSpec

from .common import (
    KEY_RE,
    BundleError,
    KeyMaker,
    clean_code_cell,
    finish_notebook,
    nbformat_id,
    new_cell,
    read_notebook,
    set_mooc,
    validated,
)

BOUNDARY_RE = re.compile(r"^\s*#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\s*$", re.IGNORECASE)
ASSIGNMENT_CONFIG_RE = re.compile(r"^\s*#\s*ASSIGNMENT\s+CONFIG\s*$", re.IGNORECASE)
BEGIN_TEST_CONFIG_RE = re.compile(r'^(?:.\s*=\s*)?"""?"?\s*#\s*BEGIN\s*TEST\s*CONFIG', re.IGNORECASE)
END_TEST_CONFIG_RE = re.compile(r'^\s*"""?"?\s*#\s*END\s*TEST\s*CONFIG', re.IGNORECASE)
OTTER_FENCE_RE = re.compile(r"^\s*```otter[ \t]*\n(.*?)\n?```\s*$", re.DOTALL)
IGNORE_CELL_RE = re.compile(r"^\s*##\s*ignore\s*##\s*$", re.IGNORECASE)
BEGIN_IGNORE_RE = re.compile(r"^\s*#\s*BEGIN\s+IGNORE\s*$", re.IGNORECASE)
END_IGNORE_RE = re.compile(r"^\s*#\s*END\s+IGNORE\s*$", re.IGNORECASE)
BEGIN_SOLUTION_RE = re.compile(r"^(\s*)#\s*BEGIN SOLUTION( NO PROMPT)?\s*$")
END_SOLUTION_RE = re.compile(r"^\s*#\s*END SOLUTION\s*$")
SOLUTION_ASSIGNMENT_RE = re.compile(r"^(\s*[A-Za-z0-9_. \[\]'\"]*[^=!<>]=)(?!=)(.*?)\s*#\s*SOLUTION\s*$")
SOLUTION_LINE_RE = re.compile(r"^(\s*)([^#\n]+?)\s*#\s*SOLUTION\s*$")
MARKER_COMMENT_RE = re.compile(r"\s*#\s*(SOLUTION(\s+NO\s+PROMPT)?|SEED)\s*$")
SKIP_SUFFIXES = ("# SOLUTION NO PROMPT", "# BEGIN PROMPT", "# END PROMPT", "# SEED")
QUESTION_KEYS = {"name", "manual", "points", "all_or_nothing", "check_cell", "export"}
TEST_CONFIG_KEYS = {"name", "points", "hidden", "success_message", "failure_message", "hints"}
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,79}$")
DEFAULT_MD_PROMPT = "_Type your answer here, replacing this text._"
INIT_SOURCE = "import otter\ngrader = otter.Notebook()"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


class _Question:
    def __init__(self, config: dict, cell: int):
        self.name: str = config["name"]
        self.manual = bool(config.get("manual", False))
        self.points = config.get("points")
        self.all_or_nothing = bool(config.get("all_or_nothing", False))
        self.check_cell = bool(config.get("check_cell", True))
        self.cell = cell
        self.tests: list[dict] = []
        self.had_tests_block = False
        self.answer_key: str | None = None


class _Importer:
    def __init__(self, path: Path):
        self.path = path
        self.nb = read_notebook(path)
        self.keys = KeyMaker(path)
        self.starter: list[dict] = []
        self.solution: list[dict] = []
        self.tests: list[TestSpec] = []
        self.config: dict = {}
        self.has_config = False
        self.question: _Question | None = None
        self.block: str | None = None
        self.block_cell = 0
        self.prompts: list[dict] = []
        self.paired_md: tuple[dict, dict] | None = None  # (starter cell, solution cell) of a Markdown answer
        self.names: set[str] = set()
        self.index = 0

    # -- errors and small helpers

    def error(self, message: str, line: int | None = None) -> BundleError:
        return BundleError(self.path, message, cell=self.index, line=line)

    def emit(self, starter: dict, solution: dict, key: str, *, role: str = "", locked: bool = False) -> None:
        self.starter.append(set_mooc(starter, key, role=role, locked=locked))
        self.solution.append(set_mooc(solution, key, role=role, locked=locked))

    def key_for(self, cell: dict) -> str:
        # An nbformat id is kept as the key; unlike a question name it does not become the anchor.
        cell_id = nbformat_id(cell)
        if cell_id is not None and cell_id not in self.keys.used and KEY_RE.match(cell_id):
            self.keys.used.add(cell_id)
            return cell_id
        return self.keys.generated()

    def yaml_mapping(self, text: str, what: str) -> dict:
        """A YAML block of a cell (the text after its marker line), read with the bounded loader."""
        try:
            data = yaml_plain(yaml_loads(text)) if text.strip() else {}
        except YamlError as exc:
            message = f"invalid YAML in {what}: {exc.problem}" if exc.syntax else f"{what}: {exc.problem}"
            raise self.error(message, exc.line + 1 if exc.line else None) from exc  # + the marker line
        if not isinstance(data, dict):
            raise self.error(f"{what} must be a YAML mapping")
        return data

    # -- line-level processing of code

    def without_ignored(self, lines: list[str]) -> list[str]:
        out, start = [], None
        for number, line in enumerate(lines, 1):
            if BEGIN_IGNORE_RE.match(line):
                if start is not None:
                    raise self.error("nested '# BEGIN IGNORE'", number)
                start = number
            elif END_IGNORE_RE.match(line):
                if start is None:
                    raise self.error("'# END IGNORE' without '# BEGIN IGNORE'", number)
                start = None
            elif start is None and not line.rstrip().endswith("# IGNORE"):
                out.append(line)
        if start is not None:
            raise self.error("'# BEGIN IGNORE' is never closed", start)
        return out

    def student_code(self, lines: list[str]) -> str:
        """Otter's replace_solutions: what the learner gets for a solution code cell."""
        out, start = [], None
        for number, line in enumerate(lines, 1):
            stripped = line.rstrip()
            if stripped.endswith(SKIP_SUFFIXES):
                continue
            if END_SOLUTION_RE.match(line):
                if start is None:
                    raise self.error("'# END SOLUTION' without '# BEGIN SOLUTION'", number)
                start = None
                continue
            if start is not None:
                continue
            begin = BEGIN_SOLUTION_RE.match(line)
            if begin:
                start = number
                if not begin.group(2):
                    out.append(begin.group(1) + "...")
                continue
            match = SOLUTION_ASSIGNMENT_RE.match(line)
            if match:
                line = match.group(1).rstrip() + " ..."
            elif (match := SOLUTION_LINE_RE.match(line)) is not None:
                line = match.group(1) + "..."
            out.append(line)
        if start is not None:
            raise self.error("'# BEGIN SOLUTION' is never closed by '# END SOLUTION'", start)
        return "\n".join(out)

    def solution_code(self, lines: list[str]) -> str:
        """The reference: markers and prompts removed, the answers kept."""
        out, prompt = [], None
        for number, line in enumerate(lines, 1):
            stripped = line.rstrip()
            if BEGIN_SOLUTION_RE.match(line) or END_SOLUTION_RE.match(line):
                continue
            if stripped.endswith("# BEGIN PROMPT"):
                if prompt is not None:
                    raise self.error("nested '# BEGIN PROMPT'", number)
                prompt = number
                continue
            if stripped.endswith("# END PROMPT"):
                if prompt is None:
                    raise self.error("'# END PROMPT' without '# BEGIN PROMPT'", number)
                prompt = None
                continue
            if prompt is None:
                out.append(MARKER_COMMENT_RE.sub("", line))
        if prompt is not None:
            raise self.error("'# BEGIN PROMPT' is never closed by '# END PROMPT'", prompt)
        return "\n".join(out)

    @staticmethod
    def has_solution_markers(lines: list[str]) -> bool:
        return any(
            BEGIN_SOLUTION_RE.match(line) or (MARKER_COMMENT_RE.search(line) and "SEED" not in line.upper())
            for line in lines
        )

    # -- blocks

    def boundary(self, cell: dict, verb: str, what: str) -> None:
        lines = cell["source"].split("\n")
        if what == "QUESTION":
            if verb == "BEGIN":
                if self.question is not None:
                    raise self.error(
                        f"'# BEGIN QUESTION' inside question {self.question.name!r} (cell {self.question.cell}) "
                        "which has no '# END QUESTION'"
                    )
                self.begin_question("\n".join(lines[1:]))
            else:
                if self.question is None:
                    raise self.error("'# END QUESTION' without '# BEGIN QUESTION'")
                if self.block is not None:
                    raise self.error(f"'# END QUESTION' while the {self.block} block of cell {self.block_cell} is open")
                self.end_question()
            return
        if self.question is None:
            raise self.error(f"'# {verb} {what}' outside a question")
        block = what.lower()
        if verb == "BEGIN":
            if self.block is not None:
                raise self.error(f"'# BEGIN {what}' inside the {self.block} block of cell {self.block_cell}")
            if block == "tests":
                if self.question.manual:
                    raise self.error(f"manual question {self.question.name!r} cannot have tests")
                if self.question.had_tests_block:
                    raise self.error(f"question {self.question.name!r} has a second tests block")
                self.question.had_tests_block = True
            self.block, self.block_cell = block, self.index
            return
        if self.block != block:
            opened = f"the {self.block} block of cell {self.block_cell} is open" if self.block else "no block is open"
            raise self.error(f"'# END {what}' but {opened}")
        self.block = None
        if block == "tests" and self.question.check_cell:
            key = self.keys.generated("check")
            check = new_cell("code", f'grader.check("{self.question.name}")')
            self.emit(check, new_cell("code", check["source"]), key, role="test", locked=True)
        if block == "solution":
            self.flush_prompts()
            self.paired_md = None

    def begin_question(self, text: str) -> None:
        config = self.yaml_mapping(text, "the question config")
        unknown = set(config) - QUESTION_KEYS
        if unknown:
            raise self.error(f"unknown question config key(s): {', '.join(sorted(unknown))}")
        name = config.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.error("a question needs a 'name' of letters, digits, '.', '_' or '-'")
        if name in self.names:
            raise self.error(f"question name {name!r} is used twice")
        points = config.get("points")
        if not (
            points is None
            or _is_number(points)
            or (isinstance(points, list) and all(_is_number(p) for p in points))
            or (isinstance(points, dict) and set(points) == {"each"} and _is_number(points["each"]))
        ):
            raise self.error(f"question {name!r}: 'points' must be a number, a list of numbers or {{each: number}}")
        self.names.add(name)
        self.question = _Question(config, self.index)
        self.keys.set_anchor(name)

    def end_question(self) -> None:
        question = self.question
        self.flush_prompts()
        if question.manual:
            points = question.points if question.points is not None else 1
            if not _is_number(points):
                raise self.error(f"manual question {question.name!r}: 'points' must be a number")
            self.tests.append(
                TestSpec(name=question.name, points=float(points), code="", kind="manual", after=question.answer_key)
            )
        elif question.tests:
            for test, points in zip(question.tests, self.resolve_points(question), strict=True):
                self.tests.append(
                    TestSpec(
                        name=test["name"],
                        points=points,
                        code=test["code"],
                        kind=test["kind"],
                        visibility="hidden" if test["hidden"] else "public",
                        success_message=test["success_message"],
                        failure_message=test["failure_message"],
                        hints=[str(h) for h in test["hints"]],
                        group=question.name if question.all_or_nothing else "",
                        question=question.name,
                    )
                )
        self.question = None
        self.paired_md = None
        self.keys.set_anchor(f"after-{question.name}")

    def resolve_points(self, question: _Question) -> list[float]:
        """Otter's TestFile.resolve_test_file_points."""
        own = [t["points"] for t in question.tests]
        total = question.points
        if isinstance(total, dict):
            total = total["each"] * len(own)
        if isinstance(total, list):
            if len(total) != len(own):
                raise BundleError(
                    self.path,
                    f"question {question.name!r}: 'points' lists {len(total)} values for {len(own)} tests",
                    cell=question.cell,
                )
            own, total = list(total), None
        specified = sum(p for p in own if p is not None)
        unspecified = sum(1 for p in own if p is None)
        if total is not None:
            if specified > total:
                raise BundleError(
                    self.path,
                    f"question {question.name!r}: its tests have {specified} points, more than its {total}",
                    cell=question.cell,
                )
            share = (total - specified) / unspecified if unspecified else 0.0
        elif specified == 0 and unspecified:
            share = 1 / unspecified
        else:
            share = 0.0
        return [float(p if p is not None else share) for p in own]

    def flush_prompts(self) -> None:
        for prompt in self.prompts:
            key = self.key_for(prompt)
            if self.question is not None and self.question.answer_key is None:
                self.question.answer_key = key
            self.emit(clean_code_cell(prompt), clean_code_cell(prompt), key)
        self.prompts = []

    # -- cells

    def test_cell(self, cell: dict) -> None:
        if cell["cell_type"] != "code":
            raise self.error("a tests block may hold only code cells")
        lines = cell["source"].split("\n")
        hidden, start, config = False, 0, {}
        if lines[0].lstrip().startswith("#") and re.search(r"\bhidden\b", lines[0], re.IGNORECASE):
            hidden, start = True, 1
        if BEGIN_TEST_CONFIG_RE.match(lines[0]):
            end = next((i for i, line in enumerate(lines) if i and END_TEST_CONFIG_RE.match(line)), None)
            if end is None:
                raise self.error("'BEGIN TEST CONFIG' is never closed by 'END TEST CONFIG'", 1)
            config = self.yaml_mapping("\n".join(lines[1:end]), "the test config")
            start = end + 1
        unknown = set(config) - TEST_CONFIG_KEYS
        if unknown:
            raise self.error(f"unknown test config key(s): {', '.join(sorted(unknown))}")
        hidden = config.get("hidden", hidden)
        points = config.get("points")
        if not isinstance(hidden, bool):
            raise self.error("test config 'hidden' must be true or false")
        if points is not None and not _is_number(points):
            raise self.error("test config 'points' must be a number >= 0")
        number = len(self.question.tests) + 1
        name = config.get("name", f"{self.question.name}-{number}")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.error(f"test name {name!r} must be letters, digits, '.', '_' or '-'")
        code = "\n".join(self.without_ignored(lines[start:])).strip("\n")
        if not code.strip():
            raise self.error(f"test {name!r} has no code")
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            raise self.error(f"test {name!r}: syntax error: {exc.msg}", (exc.lineno or 0) + start) from exc
        kind = "expr" if tree.body and isinstance(tree.body[-1], ast.Expr) else "assert"
        messages = {k: config.get(k) or "" for k in ("success_message", "failure_message")}
        for key, value in messages.items():
            if not isinstance(value, str):
                raise self.error(f"test config '{key}' must be text")
        # Our addition to Otter's test config: a ladder of hints a learner reveals one at a time.
        hints = config.get("hints") or []
        if isinstance(hints, str):
            hints = [hints]
        if not isinstance(hints, list) or not all(isinstance(h, str) and h.strip() for h in hints):
            raise self.error("test config 'hints' must be a text or a list of texts")
        self.question.tests.append(
            {"name": name, "points": points, "hidden": hidden, "code": code, "kind": kind, "hints": hints, **messages}
        )

    def solution_cell(self, cell: dict) -> None:
        tags = cell["metadata"].get("tags") or []
        if cell["cell_type"] == "code":
            lines = self.without_ignored(cell["source"].split("\n"))
            if not self.has_solution_markers(lines) and not self.prompts:
                raise self.error(
                    "code in a solution block has no '# SOLUTION' or '# BEGIN SOLUTION' marker: the starter "
                    "would contain the whole answer"
                )
            starter, solution = clean_code_cell(cell), clean_code_cell(cell)
            prompt = next((p for p in self.prompts if p["cell_type"] == "code"), None)
            if prompt is not None:
                self.prompts.remove(prompt)
                starter["source"] = self.student_code(self.without_ignored(prompt["source"].split("\n")))
            else:
                starter["source"] = self.student_code(lines)
            solution["source"] = self.solution_code(lines)
            key = self.key_for(cell)
            self.question.answer_key = key
            self.emit(starter, solution, key)
        elif cell["cell_type"] == "markdown":
            if "otter_include" in tags:
                key = self.key_for(cell)
                self.emit(clean_code_cell(cell), clean_code_cell(cell), key)
            elif self.question.manual:
                if self.paired_md is not None:
                    # Several Markdown cells answer one prompt: the reference keeps them all in one cell.
                    self.paired_md[1]["source"] += "\n\n" + cell["source"]
                    return
                prompt = next((p for p in self.prompts if p["cell_type"] == "markdown"), None)
                if prompt is not None:
                    self.prompts.remove(prompt)
                starter = clean_code_cell(prompt) if prompt else new_cell("markdown", DEFAULT_MD_PROMPT)
                solution = clean_code_cell(cell)
                key = self.key_for(cell)
                self.question.answer_key = key
                self.emit(starter, solution, key)
                self.paired_md = (self.starter[-1], self.solution[-1])
            # Markdown inside the solution of an autograded question is left out, as Otter does.
        else:
            key = self.key_for(cell)
            self.emit(clean_code_cell(cell), clean_code_cell(cell), key)

    def plain_cell(self, cell: dict) -> None:
        starter, solution = clean_code_cell(cell), clean_code_cell(cell)
        if cell["cell_type"] == "code":
            lines = self.without_ignored(cell["source"].split("\n"))
            starter["source"] = self.student_code(lines)
            solution["source"] = self.solution_code(lines)
        self.emit(starter, solution, self.key_for(cell))

    def run(self) -> AssignmentBundle:
        cells = self.nb["cells"]
        boundaries = 0
        for self.index, cell in enumerate(cells):
            fenced = OTTER_FENCE_RE.match(cell["source"]) if cell["cell_type"] == "markdown" else None
            if fenced:
                # Otter also accepts block cells as Markdown holding one ```otter fenced block.
                cell = {**cell, "cell_type": "raw", "source": fenced.group(1)}
            first = cell["source"].split("\n", 1)[0]
            match = BOUNDARY_RE.match(first)
            if cell["cell_type"] == "raw" and ASSIGNMENT_CONFIG_RE.match(first):
                if self.question is not None or self.has_config:
                    raise self.error("'# ASSIGNMENT CONFIG' must be a single cell outside the questions")
                self.has_config = True
                self.config = self.yaml_mapping(cell["source"].partition("\n")[2], "the assignment config")
                continue
            if cell["cell_type"] == "raw" and match:
                boundaries += 1
                self.boundary(cell, match.group(1).upper(), match.group(2).upper())
                continue
            if match and match.group(2).upper() in ("QUESTION", "TESTS"):
                raise self.error(f"'{first.strip()}' must be in a raw cell, not a {cell['cell_type']} cell")
            if cell["cell_type"] == "code" and IGNORE_CELL_RE.match(first):
                continue
            if self.block == "tests":
                self.test_cell(cell)
            elif self.block == "prompt":
                self.prompts.append(cell)
            elif self.block == "solution":
                self.solution_cell(cell)
            else:
                self.plain_cell(cell)
        self.index = None
        if self.question is not None:
            raise BundleError(
                self.path, f"question {self.question.name!r} has no '# END QUESTION'", cell=self.question.cell
            )
        if not boundaries:
            if any(c["cell_type"] == "markdown" and "BEGIN QUESTION" in c["source"] for c in cells):
                raise BundleError(
                    self.path,
                    "this is an Otter Assign v0 notebook (Markdown question blocks): convert it to the v1 format "
                    "(raw cells) with `python -m otter.assign.v0.convert` first",
                )
            raise BundleError(self.path, "no '# BEGIN QUESTION' raw cell: this is not an Otter Assign master notebook")
        init_key = self.keys.explicit("otter-init") if "otter-init" not in self.keys.used else self.keys.generated()
        init = new_cell("code", INIT_SOURCE)
        self.starter.insert(0, set_mooc(init, init_key, role="test", locked=True))
        self.solution.insert(0, set_mooc(new_cell("code", INIT_SOURCE), init_key, role="test", locked=True))
        name = self.config.get("name") if isinstance(self.config.get("name"), str) else self.path.stem
        bundle = AssignmentBundle(
            title=name,
            starter=finish_notebook(self.nb, self.starter),
            solution=finish_notebook(self.nb, self.solution),
            tests=self.tests,
            source_format="otter",
        )
        return validated(self.path, bundle)


def load(path: Path) -> AssignmentBundle:
    return _Importer(Path(path)).run()
