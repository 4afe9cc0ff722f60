"""Validating and storing uploaded notebooks. Everything here runs before a submission exists."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import nbformat
from django.conf import settings

from .spec import cell_key

MAX_CELLS = 1000
MAX_DEPTH = 64


class NotebookRejected(Exception):
    """The upload is not a notebook we can grade. The message is written for the learner."""


def human_size(n: int) -> str:
    """The one way sizes are stated to learners (decimal units: 10_000_000 bytes is "10 MB")."""
    for unit, size in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def too_large_message(size: int, limit: int) -> str:
    """The one refusal of an oversized upload (the upload view, the REST API and the parser all use it)."""
    shown, most = human_size(size), human_size(limit)
    if shown == most:  # 2,001 bytes against 2,000: "2 kB; at most 2 kB" would read as a bug
        shown, most = f"{size:,} bytes", f"{limit:,} bytes"
    return (
        f"The file is {shown}; notebooks may be at most {most}. "
        "Clear the outputs (Kernel → Restart & Clear Output) and save again."
    )


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escape = False
    for char in text:
        if in_string:
            if escape:
                escape = False
            elif char == "\\":
                escape = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def notebook_parse(data: bytes, *, limit_bytes: int) -> dict:
    """Bytes of an upload → a validated nbformat v4 notebook (as plain JSON data).

    Raises NotebookRejected with a message that says what is wrong and what to do."""
    if len(data) > limit_bytes:
        raise NotebookRejected(too_large_message(len(data), limit_bytes))
    if not data.strip():
        raise NotebookRejected("The file is empty.")
    try:
        text = data.decode("utf-8-sig")  # Windows editors may start the file with a byte-order mark
    except UnicodeDecodeError as exc:
        raise NotebookRejected(
            f"The file is not UTF-8 text (bad byte at position {exc.start}); is it a notebook?"
        ) from exc
    if _bracket_depth(text) > MAX_DEPTH:
        raise NotebookRejected("The notebook's JSON is nested too deeply to be a real notebook.")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, and ints too long to convert
        if not text.lstrip().startswith("{"):  # a text file, a .py script, an HTML export...
            raise NotebookRejected(
                "This file is not a Jupyter notebook (it is not valid JSON). Upload the .ipynb file that "
                "Jupyter saves (File → Download → Notebook), not a script or an export."
            ) from exc
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise NotebookRejected(
            f"The notebook file is damaged: not valid JSON{where}. Upload the .ipynb file that Jupyter saved."
        ) from exc
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:  # "\ud800": valid JSON escapes, but not text
        raise NotebookRejected("The notebook contains invalid characters (an unpaired surrogate).") from exc
    if not isinstance(raw, dict) or ("cells" not in raw and "worksheets" not in raw):
        raise NotebookRejected("The file is JSON but not a Jupyter notebook (it has no cells).")
    major = raw.get("nbformat")
    if major not in (3, 4):
        raise NotebookRejected(
            f"Notebook format {major!r} is not supported; save it with Jupyter 4 or newer (nbformat 4)."
        )
    if major == 4:
        # Jupyter always writes metadata; hand-made and converted notebooks sometimes leave it out, and
        # an empty one means the same.
        raw.setdefault("metadata", {})
        for cell in raw.get("cells") if isinstance(raw.get("cells"), list) else []:
            if isinstance(cell, dict):
                cell.setdefault("metadata", {})
        text = json.dumps(raw)
    try:
        notebook = nbformat.reads(text, as_version=4)  # converts nbformat 3 notebooks
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises many kinds; all mean "not a valid notebook"
        message = str(exc).split("\n", 1)[0][:200]
        raise NotebookRejected(f"The notebook does not follow the nbformat 4 schema: {message}") from exc
    cells = notebook.get("cells", [])
    if not cells:
        raise NotebookRejected("The notebook has no cells. Did you upload the right file?")
    if len(cells) > MAX_CELLS:
        raise NotebookRejected(f"The notebook has {len(cells)} cells; at most {MAX_CELLS} are allowed.")
    return json.loads(json.dumps(notebook))  # plain dicts and lists from here on


def notebook_check_belongs(notebook: dict, *, assignment_slug: str, starter: dict) -> None:
    """Refuse a notebook made for another assignment (by its metadata, or by sharing no cell with the starter)."""
    mooc = (notebook.get("metadata") or {}).get("mooc") or {}
    declared = mooc.get("assignment") if isinstance(mooc, dict) else None
    declared = declared if isinstance(declared, str) else None
    if declared and declared != assignment_slug:
        raise NotebookRejected(f"This notebook belongs to the assignment “{declared}”, not this one.")
    starter_keys = {cell_key(c) for c in starter.get("cells", [])} - {None}
    keys = {cell_key(c) for c in notebook.get("cells", [])} - {None}
    if starter_keys and not declared and not (keys & starter_keys):
        raise NotebookRejected(
            "This notebook shares no cell with the assignment's notebook. Download the assignment's notebook, "
            "work in it, and upload that file."
        )


def notebook_for_download(starter: dict, *, assignment_slug: str, version: int) -> bytes:
    notebook = json.loads(json.dumps(starter))
    metadata = notebook.setdefault("metadata", {})
    metadata["mooc"] = {"assignment": assignment_slug, "grader_version": version}
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode()


def storage_root() -> Path:
    return Path(settings.SUBMISSIONS_ROOT)


def notebook_store(data: bytes) -> tuple[str, str]:
    """Store bytes by content hash (write once, atomically). Returns (sha256, relative path)."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{digest[:2]}/{digest}.ipynb"
    path = storage_root() / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
        os.chmod(path, 0o440)
    return digest, relative


def notebook_load(relative: str) -> dict:
    return json.loads((storage_root() / relative).read_text(encoding="utf-8"))
