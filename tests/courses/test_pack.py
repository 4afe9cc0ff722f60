"""Content packs: validation with file and line, atomic and idempotent import, lossless export."""

import dataclasses
import textwrap

import pytest
from django.core.management import CommandError, call_command

from courses.models import Course, Item, ItemProgress, Lecture, Reading, Specialization
from courses.packs import PackError, load_pack, pack_apply
from tests.conftest import DEMO_PACK
from tests.factories import UserFactory


def _normalised(pack):
    data = dataclasses.asdict(pack)
    data.pop("root")
    for course in data["courses"]:
        for week in course["weeks"]:
            for item in week["items"]:
                item.pop("body_file")
    return data


@pytest.mark.slow
def test_demo_pack_is_valid_and_complete():
    pack = load_pack(DEMO_PACK)
    assert [c.title for c in pack.courses] == [
        "Neural Networks and Deep Learning",
        "Improving Deep Neural Networks: Hyperparameter Tuning, Regularization and Optimization",
        "Structuring Machine Learning Projects",
        "Convolutional Neural Networks",
        "Sequence Models",
    ]
    assert [len(c.weeks) for c in pack.courses] == [4, 3, 2, 4, 4]
    kinds = {item.kind for c in pack.courses for w in c.weeks for item in w.items}
    assert kinds == {"lecture", "reading", "quiz", "assignment", "peer_review"}
    assert any(item.math for c in pack.courses for w in c.weeks for item in w.items)
    assert len(pack.interviews) >= 3


@pytest.mark.slow
@pytest.mark.django_db
def test_import_creates_everything_and_reimport_changes_nothing():
    pack = load_pack(DEMO_PACK)
    first = pack_apply(pack=pack)
    assert first.created and not first.updated
    assert Course.objects.count() == 5
    assert Item.objects.count() == pack.item_count()
    assert Lecture.objects.filter(papers__isnull=False).exists()
    second = pack_apply(pack=load_pack(DEMO_PACK))
    assert (second.created, second.updated, second.removed) == ([], [], [])


@pytest.mark.slow
@pytest.mark.django_db
def test_reimport_updates_in_place_and_keeps_learner_progress(demo_pack_copy):
    pack_apply(pack=load_pack(demo_pack_copy))
    learner = UserFactory()
    item = Item.objects.get(course__slug="neural-networks-and-deep-learning", slug="what-is-a-neural-network")
    ItemProgress.objects.create(user=learner, item=item, watched_fraction=0.95, position_seconds=3)
    course_yaml = demo_pack_copy / "courses" / "neural-networks-and-deep-learning" / "course.yaml"
    course_yaml.write_text(
        course_yaml.read_text().replace('"What is a Neural Network?"', '"What Is a Neural Network, Really?"')
    )

    report = pack_apply(pack=load_pack(demo_pack_copy))

    item.refresh_from_db()
    assert item.title == "What Is a Neural Network, Really?"
    assert "neural-networks-and-deep-learning/what-is-a-neural-network" in report.updated
    assert ItemProgress.objects.get(user=learner, item=item).watched_fraction == 0.95


@pytest.mark.django_db
def test_every_error_is_reported_with_file_and_line_and_nothing_changes(demo_pack_copy):
    pack_apply(pack=load_pack(DEMO_PACK))
    before = list(Item.objects.values_list("pk", "title"))
    course_dir = demo_pack_copy / "courses" / "sequence-models"
    (course_dir / "course.yaml").write_text(
        textwrap.dedent(
            """\
            slug: sequence-models
            title: Sequence Models
            release_date: not-a-date
            weeks:
              - title: Recurrent Neural Networks
                items:
                  - kind: lecture
                    slug: Bad Slug
                    title: Broken lecture
                    captions:
                      - {start: 2.0, end: 1.0, text: "backwards"}
                  - kind: podcast
                    slug: episode-1
                    title: Not a kind
                  - kind: reading
                    slug: notes
                    title: Notes
                    body: readings/missing.md
                    colour: blue
            """
        )
    )
    with pytest.raises(CommandError):
        call_command("import_pack", str(demo_pack_copy), "--no-media")
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    errors = "\n".join(caught.value.errors)
    assert "courses/sequence-models/course.yaml:3: 'release_date' must be a date" in errors
    assert "courses/sequence-models/course.yaml:8: 'slug' 'Bad Slug' must be lowercase" in errors
    assert "courses/sequence-models/course.yaml:11: caption 2.0-1.0 overlaps" in errors
    assert "courses/sequence-models/course.yaml:12: item kind 'podcast'" in errors
    assert (
        "courses/sequence-models/course.yaml:18: file not found: courses/sequence-models/readings/missing.md" in errors
    )
    assert "courses/sequence-models/course.yaml:19: unknown key 'colour'" in errors
    assert list(Item.objects.values_list("pk", "title")) == before


def test_invalid_yaml_syntax_names_the_line(demo_pack_copy):
    (demo_pack_copy / "interviews.yaml").write_text("- slug: a\n  title: [unclosed\n")
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    assert any(e.startswith("interviews.yaml:") and "invalid YAML" in e for e in caught.value.errors)


def test_non_utf8_and_missing_course_folder_are_reported(demo_pack_copy):
    (demo_pack_copy / "courses" / "sequence-models" / "course.yaml").write_bytes(b"title: \xff\xfe bad\n")
    manifest = demo_pack_copy / "pack.yaml"
    manifest.write_text(
        manifest.read_text().replace("  - sequence-models\n", "  - sequence-models\n  - no-such-course\n")
    )
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    text = "\n".join(caught.value.errors)
    assert "courses/sequence-models/course.yaml: not UTF-8 text" in text
    assert "courses/no-such-course/course.yaml: file not found" in text


def test_reading_body_may_not_escape_the_pack(demo_pack_copy):
    course_yaml = demo_pack_copy / "courses" / "sequence-models" / "course.yaml"
    text = course_yaml.read_text()
    first_body = text.split("body: ", 1)[1].split("\n", 1)[0]
    course_yaml.write_text(text.replace(f"body: {first_body}", 'body: "../../../../etc/passwd.md"', 1))
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    assert any("points outside the pack" in e for e in caught.value.errors)


@pytest.mark.slow
@pytest.mark.django_db
def test_dry_run_writes_nothing(capsys):
    call_command("import_pack", str(DEMO_PACK), "--dry-run")
    assert "would apply" in capsys.readouterr().out
    assert not Specialization.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_round_trip_is_lossless(tmp_path):
    original = load_pack(DEMO_PACK)
    pack_apply(pack=original)
    out = tmp_path / "exported"
    call_command("export_pack", str(out))

    exported = load_pack(out)
    assert _normalised(exported) == _normalised(original)
    # and exporting what was re-imported gives the same files, byte for byte
    pack_apply(pack=exported)
    again = tmp_path / "again"
    call_command("export_pack", str(again))
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in files:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.django_db
def test_removed_items_are_deleted_and_reported(demo_pack_copy):
    pack_apply(pack=load_pack(demo_pack_copy))
    course_yaml = demo_pack_copy / "courses" / "structuring-machine-learning-projects" / "course.yaml"
    lines = course_yaml.read_text().splitlines(keepends=True)
    # drop the last item of the file (the final "- kind:" block)
    start = max(i for i, line in enumerate(lines) if line.strip().startswith("- kind:"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1  # up to the next list entry at the item's level (nested lists, e.g. a rubric, belong to it)
    while end < len(lines) and not (
        lines[end].strip().startswith("- ") and len(lines[end]) - len(lines[end].lstrip()) <= indent
    ):
        end += 1
    removed_slug = next(line.split(":", 1)[1].strip().strip('"') for line in lines[start:end] if "slug:" in line)
    course_yaml.write_text("".join(lines[:start] + lines[end:]))

    report = pack_apply(pack=load_pack(demo_pack_copy))

    assert f"structuring-machine-learning-projects/{removed_slug}" in report.removed
    assert not Item.objects.filter(slug=removed_slug, course__slug="structuring-machine-learning-projects").exists()
    assert Reading.objects.count() == 17
