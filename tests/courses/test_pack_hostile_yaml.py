"""Hostile YAML in a content pack: refused with file and line, by load_pack and by `import_pack` (with
and without --dry-run), with a clear error instead of a traceback, and nothing written."""

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from courses.models import Course, Specialization
from courses.packs import PackError, load_pack
from courses.packs.bounded_yaml import MAX_DEPTH, MAX_KEY_CHARS, MAX_NODES

REPO = Path(__file__).resolve().parents[2]
COURSE = "courses/neural-networks-and-deep-learning/course.yaml"
BOMB = ['x-lol0: &l0 "lol"'] + [f"x-lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
ALIAS_PAST_THE_LIMIT = (
    f"alias *l4 repeats 11,111 values, which takes the file past {MAX_NODES:,} (an alias counts as every value it "
    "repeats)"
)


def _insert_after(path: Path, marker: str, lines: list[str], indent: int) -> int:
    """Insert `lines` (indented) after the first line equal to `marker` (stripped); returns the first
    inserted line's number."""
    text = path.read_text().splitlines(keepends=True)
    at = next(n for n, line in enumerate(text, start=1) if line.strip() == marker)
    text[at:at] = [" " * indent + line + "\n" for line in lines]
    path.write_text("".join(text))
    return at + 1


def _bomb_in_a_quiz(pack: Path) -> str:
    """A billion laughs inside a quiz item, whose extra keys are copied (expanded) once validated."""
    first = _insert_after(pack / COURSE, "- kind: quiz", BOMB, indent=8)
    return f"{COURSE}:{first + 5}: {ALIAS_PAST_THE_LIMIT}"


def _bomb_in_the_manifest(pack: Path) -> str:
    first = _insert_after(pack / "pack.yaml", "format: 1", BOMB, indent=0)
    return f"pack.yaml:{first + 5}: {ALIAS_PAST_THE_LIMIT}"


def _bomb_in_the_interviews(pack: Path) -> str:
    path = pack / "interviews.yaml"
    lines = [f"  {line}" for line in BOMB]
    path.write_text("- slug: bomb\n" + "\n".join(lines) + "\n" + path.read_text())
    return f"interviews.yaml:{2 + 5}: {ALIAS_PAST_THE_LIMIT}"


def _deeply_nested(pack: Path) -> str:
    line = _insert_after(pack / COURSE, "estimated_hours: 24", ["x-deep: " + "[" * 100_000 + "]" * 100_000], 0)
    return f"{COURSE}:{line}: nested more than {MAX_DEPTH} levels deep"


def _huge_flow_sequence(pack: Path) -> str:
    line = _insert_after(pack / COURSE, "estimated_hours: 24", ["x-many: [" + ", ".join(["a"] * 1_500_000) + "]"], 0)
    return f"{COURSE}:{line}: more than {MAX_NODES:,} values in one file"


def _long_key(pack: Path) -> str:
    line = _insert_after(pack / COURSE, "estimated_hours: 24", ["? " + "k" * 3_000_000, ": v"], 0)
    return f"{COURSE}:{line}: a key longer than {MAX_KEY_CHARS:,} characters"


HOSTILE = {
    "billion-laughs-in-a-quiz": _bomb_in_a_quiz,
    "billion-laughs-in-pack-yaml": _bomb_in_the_manifest,
    "billion-laughs-in-interviews": _bomb_in_the_interviews,
    "deeply-nested": _deeply_nested,
    "huge-flow-sequence": _huge_flow_sequence,
    "long-key": _long_key,
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_yaml_is_refused_with_file_and_line(demo_pack_copy, make):
    expected = make(demo_pack_copy)
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    assert caught.value.errors == [expected]


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
@pytest.mark.parametrize("make", [_bomb_in_a_quiz, _huge_flow_sequence], ids=["billion-laughs", "huge-sequence"])
def test_import_pack_refuses_hostile_yaml_with_a_clear_error_and_writes_nothing(demo_pack_copy, capsys, make, dry_run):
    expected = make(demo_pack_copy)
    args = [str(demo_pack_copy), "--no-media"] + (["--dry-run"] if dry_run else [])
    with pytest.raises(CommandError, match=r"^1 error\(s\); nothing was imported\.$"):
        call_command("import_pack", *args)
    assert capsys.readouterr().err.splitlines() == [expected]
    assert not Specialization.objects.exists() and not Course.objects.exists()


@pytest.mark.slow
def test_manage_py_import_pack_refuses_a_billion_laughs_far_below_a_memory_cap(demo_pack_copy):
    """The real command in its own process, with its address space capped at 1 GiB: before the bounded
    loader this pack took ~30 s and died of MemoryError under a 2 GiB cap."""
    expected = _bomb_in_a_quiz(demo_pack_copy)
    cap = 1024**3

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "manage.py", "import_pack", str(demo_pack_copy), "--no-media"],
        cwd=REPO,
        env=env,
        preexec_fn=limit_memory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [expected, "CommandError: 1 error(s); nothing was imported."]
    assert result.stdout == ""


def test_ordinary_aliases_in_a_pack_still_load(demo_pack_copy):
    """A pack may share a value through an anchor: the paper one lecture cites, cited again by a later one."""
    path = demo_pack_copy / COURSE
    text = path.read_text()
    text = text.replace("        papers:\n", "        papers: &imagenet\n", 1)
    title = '        title: "Logistic Regression as a Neural Network"\n'
    text = text.replace(title, title + "        papers: *imagenet\n", 1)
    path.write_text(text)
    pack = load_pack(demo_pack_copy)
    items = {item.slug: item for week in pack.courses[0].weeks for item in week.items}
    cited = items["why-is-deep-learning-taking-off"].papers
    assert [paper.year for paper in cited] == [2012]
    assert items["logistic-regression-as-a-neural-network"].papers == cited
