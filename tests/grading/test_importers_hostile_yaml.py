"""Hostile YAML in assignment sources (a pack folder's assignment.yaml, the YAML blocks of an Otter
Assign master notebook): refused as a SpecError naming the file, cell and line; ordinary aliases load."""

import re

import pytest

from courses.packs.bounded_yaml import MAX_DEPTH, MAX_KEY_CHARS, MAX_NODES
from grading.importers import BundleError, load_bundle
from grading.spec import SpecError
from tests.grading.test_importers import GOOD_QUESTION, _code, _otter, _pack, _raw

BOMB = ['x-lol0: &l0 "lol"'] + [f"x-lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
ALIAS_PAST_THE_LIMIT = re.escape(
    f"alias *l4 repeats 11,111 values, which takes the file past {MAX_NODES:,} (an alias counts as every value it "
    "repeats)"
)
HUGE = ", ".join(["1"] * 200_000)
HOSTILE_MANIFESTS = {
    # (manifest text, the line and message expected)
    "billion-laughs": ("title: F\n" + "\n".join(BOMB) + "\n", rf"line 7: {ALIAS_PAST_THE_LIMIT}$"),
    "deeply-nested": ("title: F\nx: " + "[" * 50_000 + "]" * 50_000 + "\n", rf"line 2: nested more than {MAX_DEPTH} "),
    "huge-flow-sequence": (
        "title: F\ntests: [" + ", ".join(["a"] * 600_000) + "]\n",
        rf"line 2: more than {MAX_NODES:,} values in one file$",
    ),
    "long-key": ("title: F\n? " + "k" * 1_000_000 + "\n: v\n", rf"line 2: a key longer than {MAX_KEY_CHARS:,} "),
}


@pytest.mark.parametrize(("manifest", "message"), HOSTILE_MANIFESTS.values(), ids=HOSTILE_MANIFESTS.keys())
def test_hostile_assignment_yaml_is_refused_with_file_and_line(tmp_path, manifest, message):
    folder = _pack(tmp_path, manifest)
    with pytest.raises(SpecError, match=rf"^{re.escape(str(folder / 'assignment.yaml'))}, {message}"):
        load_bundle("pack", folder)


def test_an_assignment_yaml_with_ordinary_aliases_loads(tmp_path):
    manifest = (
        "title: F\n"
        "tests:\n"
        "  - name: first\n"
        "    points: 1\n"
        "    hint: &hint Check the return value of f.\n"
        "    code: assert f() == 1\n"
        "  - name: second\n"
        "    points: 1\n"
        "    hint: *hint\n"
        "    code: assert f() + 1 == 2\n"
    )
    bundle = load_bundle("pack", _pack(tmp_path, manifest))
    assert [(test.name, test.hint) for test in bundle.tests] == [
        ("first", "Check the return value of f."),
        ("second", "Check the return value of f."),
    ]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            [_raw("# ASSIGNMENT CONFIG\n" + "\n".join(BOMB)), *GOOD_QUESTION],
            rf"cell 0, line 7: the assignment config: {ALIAS_PAST_THE_LIMIT}$",
        ),
        (
            [_raw("# BEGIN QUESTION\nname: q1\npoints: " + "[" * 1000 + "]" * 1000), *GOOD_QUESTION[1:]],
            rf"cell 0, line 3: the question config: nested more than {MAX_DEPTH} levels deep$",
        ),
        (
            [
                *GOOD_QUESTION[:5],
                _code(f'""" # BEGIN TEST CONFIG\nname: t\npoints: [{HUGE}]\n""" # END TEST CONFIG\nx'),
                *GOOD_QUESTION[6:],
            ],
            rf"cell 5, line 3: the test config: more than {MAX_NODES:,} values in one file$",
        ),
        (
            [_raw("# BEGIN QUESTION\nname: q1\npoints: [1, \n"), *GOOD_QUESTION[1:]],
            r"cell 0, line 4: invalid YAML in the question config: ",
        ),
    ],
    ids=["assignment-config-bomb", "question-config-nested", "test-config-huge", "question-config-syntax"],
)
def test_hostile_yaml_in_an_otter_master_is_refused_with_cell_and_line(tmp_path, cells, message):
    path = _otter(tmp_path, *cells)
    with pytest.raises(BundleError, match=rf"^{re.escape(str(path))}, {message}"):
        load_bundle("otter", path)
