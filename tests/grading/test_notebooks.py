"""Upload validation: every kind of bad file gets a clear message; good ones are stored immutably."""

import json

import nbformat
import pytest

from grading.notebooks import NotebookRejected, notebook_check_belongs, notebook_parse, notebook_store
from tests.grading.conftest import SIGMOID_STARTER, as_bytes, notebook

LIMIT = 1_000_000


def _reject(data: bytes, match: str, limit=LIMIT):
    with pytest.raises(NotebookRejected, match=match):
        notebook_parse(data, limit_bytes=limit)


def test_valid_notebook_is_returned_as_plain_json():
    parsed = notebook_parse(as_bytes(SIGMOID_STARTER), limit_bytes=LIMIT)
    assert parsed["nbformat"] == 4 and len(parsed["cells"]) == 4
    assert type(parsed) is dict


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00not utf8", "not UTF-8"),
        (b"{not json", "damaged: not valid JSON \\(line 1"),
        (b"print('hello')\n", "This file is not a Jupyter notebook .it is not valid JSON.. Upload the .ipynb"),
        (b"[1, 2, 3]", "not a Jupyter notebook"),
        (json.dumps({"nbformat": 5, "cells": []}).encode(), "format 5 is not supported"),
        (
            json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{"cell_type": "code"}]}).encode(),
            "nbformat 4 schema",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(data, message):
    _reject(data, message)


def test_zero_cells_is_refused():
    _reject(as_bytes(notebook()), "no cells")


def test_over_the_size_limit_is_refused_before_parsing():
    _reject(b"x" * 2001, "The file is 2,001 bytes; notebooks may be at most 2,000 bytes", limit=2000)


def test_nbformat_3_is_converted():
    v3 = nbformat.v3.new_notebook(
        worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell(input="x = 1")])]
    )
    parsed = notebook_parse(nbformat.writes(v3, version=3).encode(), limit_bytes=LIMIT)
    assert parsed["nbformat"] == 4 and parsed["cells"][0]["source"] == "x = 1"


def test_non_ascii_sources_survive():
    parsed = notebook_parse(as_bytes(notebook("s = 'naïve \u2013 数据 🧠'")), limit_bytes=LIMIT)
    assert parsed["cells"][0]["source"] == "s = 'naïve \u2013 数据 🧠'"


def test_notebook_of_another_assignment_is_refused():
    with pytest.raises(NotebookRejected, match="belongs to the assignment “rnn”"):
        notebook_check_belongs(notebook("x = 1", assignment="rnn"), assignment_slug="sigmoid", starter=SIGMOID_STARTER)
    with pytest.raises(NotebookRejected, match="shares no cell"):
        notebook_check_belongs(notebook("x = 1", keys={0: "other"}), assignment_slug="sigmoid", starter=SIGMOID_STARTER)
    notebook_check_belongs(SIGMOID_STARTER, assignment_slug="sigmoid", starter=SIGMOID_STARTER)


def test_storage_is_by_content_and_write_once(settings, tmp_path):
    settings.SUBMISSIONS_ROOT = tmp_path
    digest, relative = notebook_store(b"abc")
    again = notebook_store(b"abc")
    assert (digest, relative) == again
    path = tmp_path / relative
    assert path.read_bytes() == b"abc" and oct(path.stat().st_mode)[-3:] == "440"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"nbformat": 4, "cells": [], "x": "\\ud800"}', "invalid characters"),
        (b'{"nbformat": 4, "cells": [], "x": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_valid_json_that_is_not_storable_text_is_refused(data, message):
    _reject(data, message)


def test_unusual_but_valid_notebooks_are_accepted():
    """A byte-order mark, missing metadata, nbformat 4.5 cell ids (duplicated too), outputs, attachments,
    raw and Markdown-only cells, another language's kernelspec, CRLF line endings, odd metadata values."""
    base = json.loads(as_bytes(SIGMOID_STARTER))
    assert notebook_parse(b"\xef\xbb\xbf" + as_bytes(base), limit_bytes=LIMIT)["cells"]
    bare = json.loads(json.dumps(base))
    del bare["metadata"]
    for cell in bare["cells"]:
        del cell["metadata"]
    assert len(notebook_parse(as_bytes(bare), limit_bytes=LIMIT)["cells"]) == 4
    rich = json.loads(json.dumps(base))
    rich["nbformat_minor"] = 5
    for index, cell in enumerate(rich["cells"]):
        cell["id"] = "same" if index < 2 else f"id-{index}"
    rich["cells"][0]["attachments"] = {"a.png": {"image/png": "iVBORw0KGgo="}}
    rich["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\r\n"]}]
    rich["cells"].append({"cell_type": "raw", "id": "raw", "metadata": {}, "source": "raw\r\ntext"})
    rich["metadata"] = {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}, "mooc": "odd"}
    parsed = notebook_parse(json.dumps(rich, indent=1).replace("\n", "\r\n").encode(), limit_bytes=LIMIT)
    assert [c["cell_type"] for c in parsed["cells"]] == ["markdown", "code", "code", "code", "raw"]
    notebook_check_belongs(parsed, assignment_slug="sigmoid", starter=SIGMOID_STARTER)
    markdown_only = notebook("#md # Only text")
    assert notebook_parse(as_bytes(markdown_only), limit_bytes=LIMIT)["cells"][0]["cell_type"] == "markdown"


def test_a_non_text_assignment_declaration_is_ignored():
    nb = json.loads(as_bytes(SIGMOID_STARTER))
    nb["metadata"]["mooc"] = {"assignment": ["other"]}
    notebook_check_belongs(nb, assignment_slug="sigmoid", starter=SIGMOID_STARTER)  # matched by its cells
