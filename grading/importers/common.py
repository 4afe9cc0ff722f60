"""Shared helpers for the importers: reading notebooks safely, cell keys, marker parsing errors."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path

import nbformat

from grading.spec import SpecError, cell_source

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
CELL_ID_RE = re.compile(r"[^A-Za-z0-9_-]")


class BundleError(SpecError):
    """An assignment source cannot be imported; the message names the file (and cell, line) and why."""

    def __init__(self, path: Path | str, message: str, *, cell: int | None = None, line: int | None = None):
        self.path = str(path)
        self.cell = cell
        self.line = line
        where = self.path
        if cell is not None:
            where += f", cell {cell}"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")


def read_notebook(path: Path) -> dict:
    """Read an .ipynb file as a plain nbformat v4 dict (v3 is converted); sources become strings."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(path, "file not found")
    raw = path.read_bytes()
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise BundleError(path, f"notebook is larger than {MAX_NOTEBOOK_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(path, f"not UTF-8 text (byte {exc.start})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleError(path, f"not JSON: {exc.msg}", line=exc.lineno) from exc
    except RecursionError as exc:
        raise BundleError(path, "not JSON: nested too deeply") from exc
    if not isinstance(data, dict) or "nbformat" not in data:
        raise BundleError(path, "not a Jupyter notebook (no 'nbformat' field)")
    major = data.get("nbformat")
    if major == 3:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = json.loads(json.dumps(nbformat.convert(nbformat.from_dict(data), 4)))
        except Exception as exc:
            raise BundleError(path, f"nbformat v3 notebook could not be converted to v4: {exc}") from exc
    elif major != 4:
        raise BundleError(path, f"nbformat v{major} is not supported: save the notebook as nbformat v4")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.from_dict(copy.deepcopy(data)))
    except nbformat.ValidationError as exc:
        raise BundleError(path, f"not a valid nbformat v4 notebook: {exc.message}") from exc
    for cell in data["cells"]:
        cell["source"] = cell_source(cell)
        cell.setdefault("metadata", {})
    return data


def clean_code_cell(cell: dict) -> dict:
    """A copy of the cell with outputs cleared (released notebooks carry no outputs)."""
    cell = copy.deepcopy(cell)
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


def new_cell(cell_type: str, source: str, metadata: dict | None = None) -> dict:
    cell = {"cell_type": cell_type, "metadata": metadata or {}, "source": source}
    if cell_type == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


def set_mooc(cell: dict, key: str, *, role: str = "", locked: bool = False) -> dict:
    mooc = {"key": key}
    if role:
        mooc["role"] = role
    if locked:
        mooc["locked"] = True
        # Jupyter's own hints, as nbgrader sets them on released read-only cells.
        cell["metadata"]["editable"] = False
        cell["metadata"]["deletable"] = False
    cell["metadata"]["mooc"] = mooc
    return cell


class KeyMaker:
    """Deterministic, unique cell keys: explicit ones (grade_id, nbformat id) are kept; the others are
    named after the nearest preceding anchor (a question name or an explicit key) plus a counter, so a
    cell's key does not change when cells are added elsewhere in the notebook."""

    def __init__(self, path: Path):
        self.path = path
        self.used: set[str] = set()
        self.anchor = "cell"
        self.counter = 0

    def explicit(self, key: str, *, cell: int | None = None) -> str:
        if not KEY_RE.match(key):
            raise BundleError(self.path, f"cell key {key!r} must be 1-100 letters, digits, '.', '_' or '-'", cell=cell)
        if key in self.used:
            raise BundleError(self.path, f"cell key {key!r} is used by more than one cell", cell=cell)
        self.used.add(key)
        self.set_anchor(key)
        return key

    def set_anchor(self, anchor: str) -> None:
        self.anchor = CELL_ID_RE.sub("-", anchor)[:80] or "cell"
        self.counter = 0

    def generated(self, suffix: str = "") -> str:
        while True:
            self.counter += 1
            key = f"{self.anchor}-{suffix or self.counter}" if suffix else f"{self.anchor}-{self.counter}"
            if key not in self.used:
                self.used.add(key)
                return key
            if suffix:
                suffix = f"{suffix}{self.counter}"


def nbformat_id(cell: dict) -> str | None:
    cell_id = cell.get("id")
    return cell_id if isinstance(cell_id, str) and cell_id else None


def finish_notebook(source_nb: dict, cells: list[dict]) -> dict:
    """A v4 notebook with the source's metadata and these cells; cell ids follow the keys (nbformat >= 4.5)."""
    minor = source_nb.get("nbformat_minor", 4)
    notebook = {
        "cells": cells,
        "metadata": copy.deepcopy(source_nb.get("metadata", {})),
        "nbformat": 4,
        "nbformat_minor": minor,
    }
    used: set[str] = set()
    for cell in cells:
        if minor >= 5:
            base = CELL_ID_RE.sub("-", cell["metadata"]["mooc"]["key"])[:60]
            cell_id, n = base, 1
            while cell_id in used:
                n += 1
                cell_id = f"{base}-{n}"
            used.add(cell_id)
            cell["id"] = cell_id
        else:
            cell.pop("id", None)
    return notebook


def split_lines(source: str) -> list[str]:
    return source.split("\n")


def validated(path, bundle):
    """Validate an imported bundle; its errors name the source file."""
    from grading.spec import SpecError

    try:
        bundle.validate()
    except SpecError as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError(path, str(exc)) from exc
    return bundle
