"""How a quiz travels in a content pack (registered with courses.registry in QuizzesConfig.ready).

    - kind: quiz
      slug: week-1-quiz
      title: "Introduction to Deep Learning"
      instructions: Markdown              (optional)
      pass_percent: 80                    (default 80)
      max_attempts: 3                     (attempts per window; default 3)
      attempt_window_hours: 8             (default 8)
      time_limit_minutes: 15              (optional; enforced on the server)
      shuffle_questions: true             (default true)
      shuffle_options: true               (default true)
      draw: 4                             (optional: questions per attempt, drawn from `questions`)
      questions: [...]                    (see quizzes.questions for one question)
    or, instead of draw/questions, several pools, each drawing its own share:
      pools:
        - {name: basics, draw: 2, questions: [...]}

Export writes the same keys back and leaves out the defaults, so import → export → import is lossless.
Re-importing updates pools, questions and options in place by position, so learners' attempts keep
pointing at their questions; a question that disappears from the pack but was answered in an attempt is
retired (never drawn again) rather than deleted.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from courses.api import SLUG_RE

from .models import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PASS_PERCENT,
    DEFAULT_WINDOW_HOURS,
    Option,
    Question,
    QuestionPool,
    Quiz,
)
from .questions import validate_question

SETTINGS = {
    # key: (default, minimum, maximum); None default means optional
    "pass_percent": (DEFAULT_PASS_PERCENT, 1, 100),
    "max_attempts": (DEFAULT_MAX_ATTEMPTS, 1, 100),
    "attempt_window_hours": (DEFAULT_WINDOW_HOURS, 1, 24 * 365),
    "time_limit_minutes": (None, 1, 24 * 60),
}
FLAGS = {"shuffle_questions": True, "shuffle_options": True}
QUIZ_KEYS = {"instructions", "draw", "questions", "pools", *SETTINGS, *FLAGS}
POOL_KEYS = {"name", "draw", "questions"}


def _line(node, key=None):
    if key is not None and hasattr(node, "line_of"):
        return node.line_of(key)
    return getattr(node, "line", None)


def validate(extra: dict, base: Path) -> list:
    errors: list = []
    for key in extra:
        if key not in QUIZ_KEYS:
            errors.append((key, f"unknown key {key!r} (allowed: {', '.join(sorted(QUIZ_KEYS))})"))
    for key, (_default, low, high) in SETTINGS.items():
        value = extra.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            errors.append((key, f"{key!r} must be a whole number from {low} to {high}"))
    for key in FLAGS:
        if key in extra and not isinstance(extra[key], bool):
            errors.append((key, f"{key!r} must be true or false"))
    if "instructions" in extra and not isinstance(extra["instructions"], str):
        errors.append(("instructions", "'instructions' must be Markdown text"))
    has_questions, has_pools = "questions" in extra, "pools" in extra
    if has_questions == has_pools:
        problem = "not both" if has_questions else "found neither"
        errors.append((None, f"a quiz needs either 'questions' (one pool) or 'pools' ({problem})"))
        return errors
    if has_pools:
        if "draw" in extra:
            errors.append(("draw", "with 'pools', set 'draw' on each pool"))
        pools = extra["pools"]
        if not isinstance(pools, list) or not pools:
            return [*errors, ("pools", "'pools' must list at least one pool")]
        names = set()
        for number, pool in enumerate(pools, start=1):
            if not isinstance(pool, dict) or "questions" not in pool or not set(pool) <= POOL_KEYS:
                errors.append((_line(pool) or "pools", f"pool {number} is a mapping of name, draw and questions"))
                continue
            name = pool.get("name", "")
            if name and (not isinstance(name, str) or not SLUG_RE.match(name)):
                errors.append((_line(pool, "name"), f"pool {number}: 'name' must be a slug"))
            if name in names:
                errors.append((_line(pool, "name"), f"pool name {name!r} is used twice"))
            names.add(name)
            errors += _validate_questions(pool, f"pool {number}, ")
    else:
        errors += _validate_questions(extra, "")
    return errors


def _validate_questions(container: dict, where: str) -> list:
    questions = container.get("questions")
    if not isinstance(questions, list) or not questions:
        return [(_line(container, "questions") or "questions", f"{where}'questions' must list at least one question")]
    errors = []
    for number, question in enumerate(questions, start=1):
        errors += validate_question(question, where=f"{where}question {number}: ")
    draw = container.get("draw")
    if draw is not None and (isinstance(draw, bool) or not isinstance(draw, int) or not 1 <= draw <= len(questions)):
        errors.append((_line(container, "draw") or "draw", f"{where}'draw' must be from 1 to {len(questions)}"))
    return [(line if line is not None else "questions", message) for line, message in errors]


def _pools_of(extra: dict) -> list[dict]:
    if "pools" in extra:
        return [{"name": p.get("name", ""), "draw": p.get("draw"), "questions": p["questions"]} for p in extra["pools"]]
    return [{"name": "", "draw": extra.get("draw"), "questions": extra["questions"]}]


@transaction.atomic
def apply(item, extra: dict, base: Path) -> None:
    quiz = Quiz.objects.filter(item=item).first() or Quiz(item=item)
    quiz.instructions = extra.get("instructions", "")
    for key, (default, _low, _high) in SETTINGS.items():
        setattr(quiz, key, extra.get(key, default))
    for key, default in FLAGS.items():
        setattr(quiz, key, extra.get(key, default))
    quiz.save()

    pools = {pool.order: pool for pool in quiz.pools.all()}
    data = _pools_of(extra)
    for order, pool_data in enumerate(data):
        pool = pools.pop(order, None) or QuestionPool(quiz=quiz, order=order)
        pool.name, pool.draw = pool_data["name"], pool_data["draw"]
        pool.save()
        _apply_questions(pool, pool_data["questions"])
    for pool in pools.values():  # pools no longer in the pack
        _apply_questions(pool, [])
        if not pool.questions.exists():
            pool.delete()
        elif pool.draw != 0:
            pool.draw = 0
            pool.save(update_fields=["draw"])


def _apply_questions(pool: QuestionPool, questions: list[dict]) -> None:
    existing = {q.order: q for q in pool.questions.prefetch_related("options")}
    for order, data in enumerate(questions):
        question = existing.pop(order, None) or Question(pool=pool, order=order)
        question.kind = data["kind"]
        question.prompt = data["prompt"]
        question.explanation = data["explanation"]
        question.points = data.get("points", 1)
        question.numeric_answer = data.get("answer") if data["kind"] == "numeric" else None
        question.tolerance = data.get("tolerance", 0)
        question.text_answers = list(data.get("answers", []))
        question.text_pattern = data.get("pattern", "")
        question.case_sensitive = data.get("case_sensitive", False)
        question.retired = False
        question.save()
        options = {o.order: o for o in question.options.all()} if question.pk else {}
        for option_order, option_data in enumerate(data.get("options", [])):
            option = options.pop(option_order, None) or Option(question=question, order=option_order)
            option.text = option_data["text"]
            option.is_correct = option_data.get("correct", False)
            option.save()
        Option.objects.filter(pk__in=[o.pk for o in options.values()]).delete()
    # Questions no longer in the pack: delete them, unless an attempt answered them (then retire).
    from .models import AttemptQuestion

    gone = [q.pk for q in existing.values()]
    answered = set(AttemptQuestion.objects.filter(question_id__in=gone).values_list("question_id", flat=True))
    Question.objects.filter(pk__in=answered).update(retired=True)
    Question.objects.filter(pk__in=set(gone) - answered).delete()


def export(item, base: Path) -> dict:
    quiz = Quiz.objects.filter(item=item).prefetch_related("pools__questions__options").first()
    if quiz is None:
        return dict(item.pack_extra)
    out: dict = {}
    if quiz.instructions:
        out["instructions"] = quiz.instructions
    for key, (default, _low, _high) in SETTINGS.items():
        if getattr(quiz, key) != default:
            out[key] = getattr(quiz, key)
    for key, default in FLAGS.items():
        if getattr(quiz, key) != default:
            out[key] = getattr(quiz, key)
    pools = []
    for pool in quiz.pools.all():
        questions = [export_question(q) for q in pool.questions.all() if not q.retired]
        if questions:
            pools.append((pool, questions))
    if len(pools) == 1 and not pools[0][0].name:
        pool, questions = pools[0]
        if pool.draw is not None:
            out["draw"] = pool.draw
        out["questions"] = questions
    else:
        out["pools"] = [
            {
                **({"name": pool.name} if pool.name else {}),
                **({"draw": pool.draw} if pool.draw is not None else {}),
                "questions": questions,
            }
            for pool, questions in pools
        ]
    return out


def export_question(question: Question) -> dict:
    data: dict = {"kind": question.kind, "prompt": question.prompt}
    if question.points != 1:
        data["points"] = question.points
    if question.kind in ("single", "multiple"):
        data["options"] = [
            {"text": o.text, **({"correct": True} if o.is_correct else {})} for o in question.options.all()
        ]
    elif question.kind == "numeric":
        data["answer"] = question.numeric_answer
        if question.tolerance:
            data["tolerance"] = question.tolerance
    else:
        if question.text_answers:
            data["answers"] = list(question.text_answers)
        if question.text_pattern:
            data["pattern"] = question.text_pattern
        if question.case_sensitive:
            data["case_sensitive"] = True
    data["explanation"] = question.explanation
    return data
