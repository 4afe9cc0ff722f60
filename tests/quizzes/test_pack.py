"""Quizzes in content packs: errors with file and line, re-import keeps attempts, lossless export."""

import datetime
import textwrap
from pathlib import Path

import pytest

from courses.models import Item, Lecture
from courses.packs import PackError, load_pack, pack_apply
from quizzes import pack, services
from quizzes.models import Option, Question, Quiz
from tests.conftest import DEMO_PACK
from tests.quizzes.conftest import NUMERIC, SINGLE, TEXT, subscriber

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _replace_quiz(pack_root: Path, yaml_block: str) -> Path:
    """Swap the first course's week-1 quiz for `yaml_block` (the item's keys after kind/slug/title)."""
    path = pack_root / "courses" / "neural-networks-and-deep-learning" / "course.yaml"
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "slug: week-1-quiz") + 2
    end = start
    while not lines[end].lstrip().startswith("- kind:") and not lines[end].startswith("  - title:"):
        end += 1
    block = textwrap.indent(textwrap.dedent(yaml_block).strip("\n") + "\n", " " * 8)
    path.write_text("".join(lines[:start]) + block + "".join(lines[end:]))
    return path


def test_demo_pack_has_a_real_quiz_in_every_quiz_item_with_every_kind():
    loaded = load_pack(DEMO_PACK)
    quizzes = [item for c in loaded.courses for w in c.weeks for item in w.items if item.kind == "quiz"]
    assert len(quizzes) == 17
    kinds = set()
    for quiz in quizzes:
        questions = quiz.extra.get("questions") or [q for p in quiz.extra["pools"] for q in p["questions"]]
        assert 3 <= len(questions) <= 5, quiz.slug
        kinds |= {q["kind"] for q in questions}
    assert kinds == {"single", "multiple", "numeric", "text"}
    lectures = [item for c in loaded.courses for w in c.weeks for item in w.items if item.questions]
    assert len(lectures) >= 3


@pytest.mark.django_db
def test_errors_name_the_line_of_the_question(demo_pack_copy):
    path = _replace_quiz(
        demo_pack_copy,
        """
        pass_percent: 180
        questions:
          - kind: single
            prompt: "Pick one"
            options:
              - text: "a"
              - text: "b"
            explanation: "None is right."
          - kind: numeric
            prompt: "A number"
            answer: many
            explanation: "x"
          - kind: text
            prompt: "Regex"
            pattern: "(["
            explanation: "x"
        """,
    )
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    lines = path.read_text().splitlines()
    errors = "\n".join(caught.value.errors)

    def line_of(text: str) -> int:
        return next(n for n, line in enumerate(lines, start=1) if text in line)

    course = "courses/neural-networks-and-deep-learning/course.yaml"
    assert f"{course}:{line_of('pass_percent: 180')}: quiz 'week-1-quiz': 'pass_percent' must be" in errors
    single = "question 1: a single-choice question needs exactly one"
    assert f"{course}:{line_of('options:')}: quiz 'week-1-quiz': {single}" in errors
    assert f"{course}:{line_of('answer: many')}: quiz 'week-1-quiz': question 2: 'answer' must be a number" in errors
    pattern_line = line_of("pattern:")
    assert f"{course}:{pattern_line}: quiz 'week-1-quiz': question 3: 'pattern' is not a valid" in errors


@pytest.mark.django_db
def test_in_video_question_after_the_end_of_the_lecture_is_an_error(demo_pack_copy):
    path = demo_pack_copy / "courses" / "neural-networks-and-deep-learning" / "course.yaml"
    path.write_text(path.read_text().replace("- at: 10.3", "- at: 99.0", 1))
    with pytest.raises(PackError, match=r"course.yaml:\d+: in-video question at 99.0 s|after the end of the lecture"):
        load_pack(demo_pack_copy)


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_quizzes_import_with_their_settings_and_in_video_questions():
    pack_apply(pack=load_pack(DEMO_PACK))
    quiz = Quiz.objects.get(item__course__slug="neural-networks-and-deep-learning", item__slug="week-2-quiz")
    assert quiz.time_limit_minutes == 10
    assert [(p.name, p.draw, p.questions.count()) for p in quiz.pools.all()] == [
        ("logistic-regression", 2, 3),
        ("vectorisation", 1, 2),
    ]
    assert Quiz.objects.count() == 17
    lecture = Lecture.objects.get(item__slug="activation-functions")
    assert [q["at"] for q in lecture.questions] == [7.1, 10.3]


@pytest.mark.django_db
def test_reimport_updates_questions_in_place_and_retires_answered_ones():
    item_extra = {"questions": [SINGLE, NUMERIC, TEXT]}
    from tests.factories import ItemFactory

    item = ItemFactory(kind="quiz")
    pack.apply(item, item_extra, Path("."))
    quiz = Quiz.objects.get(item=item)
    learner = subscriber()
    attempt = services.attempt_start(user=learner, quiz=quiz, now=T0)
    services.attempt_submit(user=learner, attempt_id=attempt.pk, answers={}, confirm_unanswered=True, now=T0)
    ids_before = list(Question.objects.order_by("order").values_list("pk", flat=True))

    changed_prompt = {**SINGLE, "prompt": "Reworded"}
    pack.apply(item, {"questions": [changed_prompt]}, Path("."))

    questions = list(Question.objects.order_by("order"))
    assert [q.pk for q in questions] == ids_before  # updated in place, none deleted: all were answered
    assert questions[0].prompt == "Reworded" and not questions[0].retired
    assert [q.retired for q in questions[1:]] == [True, True]
    assert attempt.questions.count() == 3
    assert pack.export(item, Path(".")) == {"questions": [changed_prompt]}
    assert Option.objects.filter(question=questions[0]).count() == 3


@pytest.mark.django_db
def test_unanswered_questions_removed_from_the_pack_are_deleted():
    from tests.factories import ItemFactory

    item = ItemFactory(kind="quiz")
    pack.apply(item, {"questions": [SINGLE, NUMERIC]}, Path("."))
    pack.apply(item, {"questions": [SINGLE]}, Path("."))
    assert Question.objects.count() == 1


@pytest.mark.django_db
def test_export_leaves_out_defaults_and_keeps_settings(tmp_path):
    from tests.factories import ItemFactory

    extra = {
        "instructions": "Read carefully.",
        "pass_percent": 70,
        "time_limit_minutes": 5,
        "shuffle_options": False,
        "pools": [{"name": "a", "draw": 1, "questions": [SINGLE, NUMERIC]}, {"questions": [TEXT]}],
    }
    item = ItemFactory(kind="quiz")
    assert pack.validate(extra, tmp_path) == []
    pack.apply(item, extra, tmp_path)
    assert pack.export(item, tmp_path) == extra
    assert Item.objects.get(pk=item.pk).quiz.max_attempts == 3


@pytest.mark.django_db
def test_in_video_question_body_is_validated_with_its_line(demo_pack_copy):
    path = demo_pack_copy / "courses" / "neural-networks-and-deep-learning" / "course.yaml"
    text = path.read_text()
    option = '              - text: "$(0, 1)$"\n'
    broken = text.replace(option, option + "                correct: true\n", 1)
    assert broken != text
    path.write_text(broken)
    with pytest.raises(PackError) as caught:
        load_pack(demo_pack_copy)
    line = next(n for n, row in enumerate(broken.splitlines(), start=1) if "What is the range of" in row) + 1
    course = "courses/neural-networks-and-deep-learning/course.yaml"
    assert caught.value.errors == [
        f"{course}:{line}: in-video question at 7.1 s: a single-choice question needs exactly one correct option "
        "(found 2)"
    ]
