"""Notebooks as HTML for learners: Markdown cells through our renderer (math as MathML), code cells and
their outputs highlighted and converted with nbconvert's filters."""

from __future__ import annotations

import html

from django.core.cache import cache
from nbconvert.filters.ansi import ansi2html
from nbconvert.filters.highlight import Highlight2HTML

from courses.api import focusable_code, render_markdown

from .spec import cell_locked, cell_role, cell_source

_highlight = Highlight2HTML(pygments_lexer="python3")  # IPython is not installed on the host


def render_cells(notebook: dict, *, include_outputs: bool = False, heading_offset: int = 2) -> list[dict]:
    """`heading_offset` shifts the notebook's headings under the page's own: 2 (h3 and below) where the
    cells sit in a card under an h2, 1 where they follow the page's h1 directly (the editor)."""
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        kind = cell.get("cell_type")
        source = cell_source(cell)
        if kind == "markdown":
            html_text = render_markdown(source, heading_offset=heading_offset)
            cells.append({"index": index, "kind": "markdown", "html": html_text})
        elif kind == "code":
            outputs = []
            for output in cell.get("outputs", []) if include_outputs else []:
                text = output.get("text") or (output.get("data") or {}).get("text/plain") or ""
                text = "".join(text) if isinstance(text, list) else str(text)
                outputs.append(ansi2html(html.escape(text[:5000])))
            cells.append(
                {
                    "index": index,
                    "kind": "code",
                    "html": focusable_code(_highlight(source, metadata={})) if source.strip() else "",
                    "source": source,
                    "role": cell_role(cell),
                    # Locked cells and the grader's test cells are shown, not edited (the grader refuses changes).
                    "read_only": cell_locked(cell) or cell_role(cell) == "test",
                    "outputs": outputs,
                }
            )
    return cells


def render_starter(version) -> list[dict]:
    """Rendering is pure and the version immutable once published: cache it by content."""
    key = f"grading:starter-html:{version.content_hash}"
    cells = cache.get(key)
    if cells is None:
        cells = render_cells(version.starter)
        cache.set(key, cells, 24 * 3600)
    return cells
