"""Our own assignment format: a folder that round-trips an AssignmentBundle exactly.

assignment.yaml    title, source_format (where it was imported from), instructions (file name),
                   grading settings (see SETTINGS), tests: [{name, points, kind, visibility, hint,
                   hints (a list: further hints a learner reveals one at a time), after,
                   success_message, failure_message, group, code}]
starter.ipynb      what learners download; every cell carries metadata.mooc.key
solution.ipynb     the reference solution: the same keys in the same order
instructions.md    Markdown shown above the notebook
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from courses.api import LineDict, LineList, YamlError, yaml_loads, yaml_plain
from grading.spec import AssignmentBundle, SpecError, TestSpec, cell_key

from .common import KEY_RE, BundleError, read_notebook

MANIFEST = "assignment.yaml"
STARTER = "starter.ipynb"
SOLUTION = "solution.ipynb"
INSTRUCTIONS = "instructions.md"
MAX_MANIFEST_BYTES = 2 * 1024 * 1024
# name: (minimum, maximum, may be null)
SETTINGS = {
    "time_limit_seconds": (1, 3600, False),
    "cell_timeout_seconds": (1, 600, False),
    "memory_mb": (64, 8192, False),
    "max_attempts": (1, 1000, True),
    "cooldown_minutes": (0, 7 * 24 * 60, False),
    "pass_percent": (0, 100, False),
    "max_upload_bytes": (1024, 100 * 1024 * 1024, False),
}
TOP_KEYS = {"title", "source_format", "instructions", "tests", *SETTINGS}
TEST_KEYS = {
    "name",
    "points",
    "kind",
    "visibility",
    "hint",
    "hints",
    "after",
    "success_message",
    "failure_message",
    "group",
    "question",
    "code",
}
TEST_FIELD_ORDER = (
    "name",
    "points",
    "kind",
    "visibility",
    "after",
    "group",
    "question",
    "hint",
    "hints",
    "success_message",
    "failure_message",
    "code",
)
SOURCE_FORMATS = ("pack", "nbgrader", "otter")


class _Manifest:
    """assignment.yaml with the line of each key, for error messages."""

    def __init__(self, folder: Path):
        self.path = folder / MANIFEST
        if not self.path.is_file():
            raise BundleError(self.path, "missing: an assignment folder needs assignment.yaml")
        with self.path.open("rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise BundleError(self.path, "larger than 2 MB")
        try:
            self.tree = yaml_loads(raw.decode("utf-8"))  # bounded: depth, size, alias expansion
        except UnicodeDecodeError as exc:
            raise BundleError(self.path, "not UTF-8 text") from exc
        except YamlError as exc:
            raise BundleError(self.path, exc.message, line=exc.line or None) from exc
        if not isinstance(self.tree, dict):
            raise BundleError(self.path, "must be a YAML mapping")
        self.data = yaml_plain(self.tree)

    def line(self, key: str | None = None, index: int | None = None, field: str | None = None) -> int | None:
        if key is None:
            return self.tree.line
        if key not in self.tree.key_lines:
            return None
        line = self.tree.key_lines[key]
        value = self.tree[key]
        if index is not None and isinstance(value, LineList) and index < len(value):
            line = value.line_of(index)
            item = value[index]
            if field is not None and isinstance(item, LineDict) and field in item.key_lines:
                line = item.key_lines[field]
        return line

    def error(self, message: str, key: str | None = None, index: int | None = None, field: str | None = None):
        return BundleError(self.path, message, line=self.line(key, index, field))


def _settings(data: dict, error) -> dict:
    """Validate the grading settings in a manifest mapping; error(message, key) builds the exception."""
    out = {}
    for name, (low, high, nullable) in SETTINGS.items():
        if name not in data:
            continue
        value = data[name]
        if value is None and nullable:
            out[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            null = " or empty (unlimited)" if nullable else ""
            raise error(f"{name} must be a whole number from {low} to {high}{null}", name)
        out[name] = value
    timeout, limit = out.get("cell_timeout_seconds"), out.get("time_limit_seconds")
    if timeout and limit and timeout > limit:
        raise error("cell_timeout_seconds cannot exceed time_limit_seconds", "cell_timeout_seconds")
    return out


def load_settings(folder: Path) -> dict:
    """The grading settings of a pack folder, validated: only the keys it sets (ints; max_attempts may be None)."""
    manifest = _Manifest(Path(folder))
    return _settings(manifest.data, manifest.error)


def _tests(manifest: _Manifest) -> list[TestSpec]:
    raw_tests = manifest.data.get("tests")
    if not isinstance(raw_tests, list) or not raw_tests:
        raise manifest.error("'tests' must be a non-empty list", "tests" if "tests" in manifest.data else None)
    tests, seen = [], {}
    for index, raw in enumerate(raw_tests):
        if not isinstance(raw, dict):
            raise manifest.error(f"test #{index + 1} must be a mapping", "tests", index)
        unknown = set(raw) - TEST_KEYS
        if unknown:
            raise manifest.error(f"test #{index + 1}: unknown key(s) {', '.join(sorted(unknown))}", "tests", index)
        for required in ("name", "points"):
            if required not in raw:
                raise manifest.error(f"test #{index + 1} needs '{required}'", "tests", index)
        data = dict(raw)
        for text_key in ("hint", "hints", "success_message", "failure_message", "group", "question"):
            if data.get(text_key) is None:
                data.pop(text_key, None)
        hints = data.get("hints", [])
        if not isinstance(hints, list) or not all(isinstance(h, str) and h.strip() for h in hints):
            raise manifest.error(f"test #{index + 1}: 'hints' must be a list of texts", "tests", index, "hints")
        if "hints" in data:
            data["hints"] = [str(h) for h in hints]
        data.setdefault("code", "")
        if data.get("after") is not None and not isinstance(data["after"], str):
            raise manifest.error(f"test {raw['name']!r}: 'after' must be a cell key", "tests", index, "after")
        for text_key in ("name", "code", "hint", "success_message", "failure_message", "group", "question"):
            if text_key in data and not isinstance(data[text_key], str):
                raise manifest.error(f"test #{index + 1}: '{text_key}' must be text", "tests", index, text_key)
        try:
            test = TestSpec.from_dict(data)
        except (SpecError, TypeError) as exc:
            raise manifest.error(str(exc), "tests", index) from exc
        if test.name in seen:
            raise manifest.error(f"test name {test.name!r} is already used by test #{seen[test.name]}", "tests", index)
        seen[test.name] = index + 1
        tests.append(test)
    return tests


def _keyed(path: Path, notebook: dict, other: dict | None = None) -> None:
    """Give every cell a metadata.mooc.key: its own key, grade_id or id, else one made from its position."""
    keys = set()
    for index, cell in enumerate(notebook["cells"]):
        key = cell_key(cell)
        if key is None:
            key = f"cell-{index + 1}"
        if not KEY_RE.match(key):
            raise BundleError(path, f"cell key {key!r} must be 1-100 letters, digits, '.', '_' or '-'", cell=index)
        if key in keys:
            raise BundleError(path, f"cell key {key!r} is used by more than one cell", cell=index)
        keys.add(key)
        metadata = cell.setdefault("metadata", {})
        mooc = metadata.get("mooc")
        if not isinstance(mooc, dict):
            mooc = metadata["mooc"] = {}
        mooc["key"] = key


def load(folder: Path) -> AssignmentBundle:
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(folder, "not a folder (the pack format is a folder with assignment.yaml)")
    manifest = _Manifest(folder)
    unknown = set(manifest.data) - TOP_KEYS
    if unknown:
        first = sorted(unknown)[0]
        raise manifest.error(f"unknown key(s): {', '.join(sorted(unknown))}", first)
    _settings(manifest.data, manifest.error)
    title = manifest.data.get("title", folder.name)
    if not isinstance(title, str) or not title.strip():
        raise manifest.error("'title' must be text", "title")
    source_format = manifest.data.get("source_format", "pack")
    if source_format not in SOURCE_FORMATS:
        raise manifest.error(f"source_format must be one of {', '.join(SOURCE_FORMATS)}", "source_format")
    instructions_name = manifest.data.get("instructions", INSTRUCTIONS if (folder / INSTRUCTIONS).exists() else None)
    instructions = ""
    if instructions_name is not None:
        if not isinstance(instructions_name, str):
            raise manifest.error("'instructions' must be the name of a Markdown file", "instructions")
        instructions_path = (folder / instructions_name).resolve()
        if folder.resolve() not in instructions_path.parents or not instructions_path.is_file():
            raise manifest.error(f"instructions file {instructions_name!r} not found in the folder", "instructions")
        try:
            instructions = instructions_path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BundleError(instructions_path, "not UTF-8 text") from exc
    tests = _tests(manifest)
    starter = read_notebook(folder / STARTER)
    solution = read_notebook(folder / SOLUTION)
    _keyed(folder / STARTER, starter)
    _keyed(folder / SOLUTION, solution)
    starter_keys = [cell_key(c) for c in starter["cells"]]
    solution_keys = [cell_key(c) for c in solution["cells"]]
    if starter_keys != solution_keys:
        index = next(
            (i for i, (a, b) in enumerate(zip(starter_keys, solution_keys, strict=False)) if a != b),
            min(len(starter_keys), len(solution_keys)),
        )
        raise BundleError(
            folder / SOLUTION,
            f"cells must match starter.ipynb key for key: starter has "
            f"{starter_keys[index] if index < len(starter_keys) else 'no cell'!r}, solution has "
            f"{solution_keys[index] if index < len(solution_keys) else 'no cell'!r}",
            cell=index,
        )
    bundle = AssignmentBundle(
        title=title,
        starter=starter,
        solution=solution,
        tests=tests,
        instructions=instructions,
        source_format=source_format,
    )
    try:
        bundle.validate()
    except SpecError as exc:
        raise manifest.error(str(exc), "tests") from exc
    return bundle


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str):
    # Code and messages with several lines read best as literal blocks; PyYAML falls back to quoting
    # when a block cannot represent the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _write_notebook(path: Path, notebook: dict) -> None:
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write(bundle: AssignmentBundle, folder: Path, *, settings: dict | None = None) -> None:
    """Write the bundle (and grading settings) as a pack folder that load() reads back equal."""
    bundle.validate()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"title": bundle.title}
    if bundle.source_format != "pack":
        manifest["source_format"] = bundle.source_format
    manifest["instructions"] = INSTRUCTIONS
    for name in SETTINGS:
        if settings and name in settings:
            manifest[name] = settings[name]
    tests = []
    for test in bundle.tests:
        data = test.to_dict()
        data.pop("expected", None)  # recomputed from the reference solution when a version is published
        data.pop("has_expected", None)
        item = {"name": data["name"], "points": data["points"], "kind": data["kind"], "visibility": data["visibility"]}
        for key in TEST_FIELD_ORDER:
            if key not in item and data.get(key) not in (None, ""):
                item[key] = data[key]
        tests.append(item)
    manifest["tests"] = tests
    text = yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    # The reader's own rules, before anything is written.
    _settings(manifest, lambda message, key: BundleError(folder / MANIFEST, message))
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    (folder / INSTRUCTIONS).write_text(bundle.instructions, encoding="utf-8")
    _write_notebook(folder / STARTER, bundle.starter)
    _write_notebook(folder / SOLUTION, bundle.solution)
