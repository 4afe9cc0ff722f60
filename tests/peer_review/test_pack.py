"""Peer-review assignments in content packs: every error with its file and line, a lossless round trip."""

from pathlib import Path

import pytest

from courses.packs import PackError, load_pack, pack_apply
from courses.packs.bounded_yaml import plain
from peer_review import pack, selectors
from peer_review.models import Assignment, Submission
from tests.conftest import DEMO_PACK

COURSE = "courses/structuring-machine-learning-projects/course.yaml"


def _peer_item(loaded):
    return next(i for c in loaded.courses for w in c.weeks for i in w.items if i.kind == "peer_review")


def test_the_demo_case_study_has_a_rubric_and_two_calibration_examples():
    extra = _peer_item(load_pack(DEMO_PACK)).extra
    assert len(extra["rubric"]) == 4 and len(extra["examples"]) == 2
    assert all(len(c["options"]) >= 3 for c in extra["rubric"])


@pytest.mark.django_db
def test_import_then_export_gives_back_the_same_mapping(tmp_path):
    loaded = load_pack(DEMO_PACK)
    pack_apply(pack=loaded)
    item = _peer_item(loaded)
    assignment = Assignment.objects.get(item__slug=item.slug)
    assert [c.name for c in selectors.rubric(assignment=assignment)] == ["metric", "data", "diagnosis", "iterations"]
    assert Submission.objects.filter(assignment=assignment, is_training=True).count() == 2
    assert plain(pack.export(assignment.item, tmp_path)) == item.extra


@pytest.mark.django_db
def test_errors_name_the_file_and_line(demo_pack_copy):
    path = demo_pack_copy / COURSE
    text = path.read_text()
    text = text.replace("            weight: 2\n", "            weight: -1\n", 1)
    text = text.replace(
        '              - {label: "No diagnosis", points: 0}\n',
        '              - {label: "No diagnosis", points: 2}\n',
        1,
    )
    text = text.replace(
        "scores: {metric: 2, data: 0, diagnosis: 0, iterations: 2}", "scores: {metric: 3, data: 0, diagnosis: 0}"
    )
    text = text.replace("        rubric:\n", "        reviews_to_give: 0\n        rubric:\n", 1)
    path.write_text(text)
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    lines = path.read_text().splitlines()
    errors = "\n".join(caught.value.errors)

    def line_of(fragment: str) -> int:
        return next(n for n, line in enumerate(lines, start=1) if fragment in line)

    prefix = f"{COURSE}:{{}}: peer_review 'case-study-write-up': "
    assert prefix.format(line_of("reviews_to_give: 0")) + "'reviews_to_give' must be a whole number from 1" in errors
    assert prefix.format(line_of("weight: -1")) + "rubric criterion 3: 'weight' must be a number above 0" in errors
    assert (
        prefix.format(line_of("Mentions bias and variance")) + "rubric criterion 3: two options give 2 points" in errors
    )
    scores = line_of("scores: {metric: 3")
    assert prefix.format(scores) + "example 2: no score for criterion 'iterations'" in errors
    assert prefix.format(scores) + "example 2: 3 is not an option of 'metric'" in errors


def test_a_rubric_needs_criteria_with_options():
    errors = pack.validate(
        {"rubric": [{"name": "Bad Name", "prompt": "x", "options": []}], "submit": {"text": False}}, Path(".")
    )
    messages = [message for _key, message in errors]
    assert "rubric criterion 1: 'name' must be a slug (lower case, dashes)" in messages
    assert "submit: the assignment must accept text, files or a notebook" in messages
    assert pack.validate({}, Path(".")) == [("rubric", "'rubric' must list at least one criterion")]
