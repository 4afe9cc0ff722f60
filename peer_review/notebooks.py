"""A submitted notebook, kept as what reviewers may see: cells and their outputs, nothing else.

Metadata (kernel, author fields, widget state, anything an editor stored) is dropped, HTML and
JavaScript outputs are dropped (a reviewer's browser runs nothing a learner wrote), PNG images are
kept as base64 and shown as images, text is shown as text. Nothing is ever executed."""

from __future__ import annotations

import base64
import binascii
import json
import re

MAX_CELLS = 500
MAX_TEXT = 20_000
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookRejected(ValueError):
    """The file is not a notebook we can show; the message is for the learner."""


def _text(value) -> str:
    text = "".join(value) if isinstance(value, list) else str(value or "")
    return ANSI.sub("", text)[:MAX_TEXT]


def sanitize(raw: bytes) -> dict:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NotebookRejected("This file is not a Jupyter notebook (it is not JSON).") from None
    if not isinstance(data, dict) or data.get("nbformat") != 4 or not isinstance(data.get("cells"), list):
        raise NotebookRejected("This file is not a Jupyter notebook in format 4.")
    if len(data["cells"]) > MAX_CELLS:
        raise NotebookRejected(f"A notebook may have at most {MAX_CELLS} cells.")
    cells = []
    for cell in data["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        outputs = []
        for out in cell.get("outputs") or [] if cell["cell_type"] == "code" else []:
            if not isinstance(out, dict):
                continue
            kind = out.get("output_type")
            if kind == "stream":
                outputs.append({"kind": "text", "text": _text(out.get("text"))})
            elif kind == "error":
                outputs.append({"kind": "error", "text": _text(out.get("traceback") or out.get("evalue"))})
            elif kind in ("execute_result", "display_data"):
                bundle = out.get("data") or {}
                png = bundle.get("image/png")
                if isinstance(png, str):
                    try:
                        base64.b64decode(png, validate=False)
                        outputs.append({"kind": "png", "data": png.replace("\n", "")})
                        continue
                    except (binascii.Error, ValueError):
                        pass
                if "text/plain" in bundle:
                    outputs.append({"kind": "text", "text": _text(bundle["text/plain"])})
        cells.append({"type": cell["cell_type"], "source": _text(cell.get("source")), "outputs": outputs})
    return {"cells": cells}
