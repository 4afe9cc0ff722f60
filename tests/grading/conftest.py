"""Fixtures for grading: a small published assignment, notebooks built in code, the sandbox engine."""

import json

from grading.models import Assignment, GraderVersion
from grading.spec import TestSpec, locked_cell_hashes
from tests.factories import ItemFactory


def notebook(*sources, assignment: str | None = None, keys=None, roles=None, locked=()):
    cells = []
    for index, source in enumerate(sources):
        key = (keys or {}).get(index, f"cell-{index}")
        mooc = {"key": key}
        if roles and index in roles:
            mooc["role"] = roles[index]
        if index in locked:
            mooc["locked"] = True
        kind = "markdown" if source.startswith("#md ") else "code"
        cell = {"cell_type": kind, "metadata": {"mooc": mooc}, "source": source.removeprefix("#md ")}
        if kind == "code":
            cell.update(outputs=[], execution_count=None)
        cells.append(cell)
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    if assignment:
        meta["mooc"] = {"assignment": assignment}
    return {"nbformat": 4, "nbformat_minor": 4, "metadata": meta, "cells": cells}


def as_bytes(nb) -> bytes:
    return json.dumps(nb).encode()


SIGMOID_STARTER = notebook(
    "#md # Sigmoid\nImplement `sigmoid`.",
    "import numpy as np",
    "def sigmoid(z):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    "",
)
SIGMOID_SOLUTION = notebook(
    "#md # Sigmoid\nImplement `sigmoid`.",
    "import numpy as np",
    "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))",
    "",
)
SIGMOID_TESTS = [
    TestSpec(
        name="sigmoid_zero",
        points=1,
        code="import numpy as np\nassert np.isclose(sigmoid(0.0), 0.5), 'sigmoid(0) should be 0.5'",
    ),
    TestSpec(
        name="sigmoid_array",
        points=2,
        code="import numpy as np\nassert np.allclose(sigmoid(np.array([-1.0, 2.0])), [0.26894142, 0.88079708])",
        visibility="hidden",
        hint="Make sure sigmoid works on whole arrays.",
    ),
]


def make_assignment(
    *, published=True, starter=SIGMOID_STARTER, solution=SIGMOID_SOLUTION, tests=SIGMOID_TESTS, **fields
):
    item = ItemFactory(kind="assignment", slug=fields.pop("slug", "sigmoid"), title="Sigmoid")
    assignment = Assignment.objects.create(item=item, **fields)
    version = GraderVersion.objects.create(
        assignment=assignment,
        number=1,
        status=GraderVersion.Status.PUBLISHED if published else GraderVersion.Status.DRAFT,
        starter=starter,
        solution=solution,
        tests=[t.to_dict() for t in tests],
        locked_hashes=locked_cell_hashes(starter),
        content_hash="x",
    )
    if published:
        assignment.current_version = version
        assignment.save()
    return assignment
