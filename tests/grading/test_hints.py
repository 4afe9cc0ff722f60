"""Hints: where importers take them from, how packs carry them, how learners reveal them one at a time."""

import pytest

from grading.importers import load_bundle, write_pack
from grading.spec import SpecError
from tests.grading.test_importers import GOOD_QUESTION, GOOD_TEST, _code, _notebook, _otter, _pack


def test_nbgrader_hints_come_from_the_released_part_only(tmp_path):
    """Hole 4: a hidden region starting with a docstring became the learner-visible hint."""
    hidden_first = (
        '### BEGIN HIDDEN TESTS\n"""squares(50) must end with 2500: the secret boundary."""\n'
        "assert squares(50)[-1] == 2500\n### END HIDDEN TESTS"
    )
    released = (
        '"""Check squares for several inputs."""\n# HINT: start from range(1, n + 1).\n'
        "# hint: each element is i * i.\nassert squares(1) == [1]\n"
        "### BEGIN HIDDEN TESTS\n# HINT: not this one, it is hidden\nassert squares(3) == [1, 4, 9]\n"
        "### END HIDDEN TESTS"
    )
    path = _notebook(
        tmp_path,
        [
            _code(
                "def squares(n):\n    ### BEGIN SOLUTION\n    return []\n    ### END SOLUTION",
                grade_id="a",
                solution=True,
            ),
            _code(hidden_first, grade_id="secret", grade=True, points=1),
            _code(released, grade_id="visible", grade=True, points=1),
        ],
    )
    tests = {t.name: t for t in load_bundle("nbgrader", path).tests}
    assert tests["secret"].hint == "" and tests["secret"].hints == []
    assert "boundary" not in str({k: v for k, v in tests["secret"].to_dict().items() if k != "code"})
    assert tests["visible"].hint_ladder == [
        "Check squares for several inputs.",
        "start from range(1, n + 1).",
        "each element is i * i.",
    ]


def test_hint_ladders_round_trip_through_packs_and_come_from_otter_configs(tmp_path):
    bundle = load_bundle(
        "pack", _pack(tmp_path, {"title": "F", "tests": [dict(GOOD_TEST, hint="One.", hints=["Two.", "Three."])]})
    )
    assert bundle.tests[0].hint_ladder == ["One.", "Two.", "Three."]
    write_pack(bundle, tmp_path / "again")
    assert load_bundle("pack", tmp_path / "again").tests[0].hints == ["Two.", "Three."]
    with pytest.raises(SpecError, match="'hints' must be a list of texts"):
        load_bundle("pack", _pack(tmp_path, {"title": "F", "tests": [dict(GOOD_TEST, hints="Two.")]}))
    config = '""" # BEGIN TEST CONFIG\nhints:\n- Look at x.\n- x is two.\n""" # END TEST CONFIG\nx'
    cells = list(GOOD_QUESTION)
    bundle = load_bundle("otter", _otter(tmp_path, *cells[:5], _code(config), *cells[6:]))
    assert bundle.tests[0].hint_ladder == ["Look at x.", "x is two."]
