"""The question format (as written in a content pack) and how an answer is checked.

Shared by graded quiz questions (stored as `Question` rows) and ungraded in-video questions (kept as
mappings on their lecture). A question in the pack:

    kind: single | multiple | numeric | text
    prompt: Markdown (code and $math$ allowed)
    explanation: Markdown, shown once the answer is in
    points: 1                                  (quizzes only; default 1)
    options: [{text: ..., correct: true}, ...] (single: exactly one correct; multiple: at least one)
    answer: 0.25, tolerance: 0.01              (numeric; tolerance is absolute, default 0)
    answers: [...], pattern: '...'            (text: accepted answers and/or a regular expression
    case_sensitive: false                      matched against the whole answer)
"""

from __future__ import annotations

import math
import re

KINDS = ("single", "multiple", "numeric", "text")
QUESTION_KEYS = {
    "kind",
    "prompt",
    "explanation",
    "points",
    "options",
    "answer",
    "tolerance",
    "answers",
    "pattern",
    "case_sensitive",
}
KEYS_BY_KIND = {
    "single": {"options"},
    "multiple": {"options"},
    "numeric": {"answer", "tolerance"},
    "text": {"answers", "pattern", "case_sensitive"},
}
MAX_TEXT_ANSWER = 300
MAX_OPTIONS = 12


def _line(node, key=None):
    """The line of `key` in a mapping loaded by courses.packs (or of the node itself), else None."""
    if key is not None and hasattr(node, "line_of"):
        return node.line_of(key)
    return getattr(node, "line", None)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_question(question, *, where: str = "", allow_points: bool = True) -> list[tuple[int | None, str]]:
    """Every problem with one question mapping, as (line or None, message)."""
    errors: list[tuple[int | None, str]] = []

    def error(message: str, key: str | None = None, node=None) -> None:
        errors.append((_line(node if node is not None else question, key), f"{where}{message}"))

    if not isinstance(question, dict):
        return [(_line(question), f"{where}a question must be a mapping")]
    kind = question.get("kind")
    if kind not in KINDS:
        error(f"'kind' must be one of {', '.join(KINDS)}", "kind")
        return errors
    allowed = {"kind", "prompt", "explanation"} | KEYS_BY_KIND[kind] | ({"points"} if allow_points else set())
    for key in question:
        if key not in allowed:
            error(f"unknown key {key!r} for a {kind} question (allowed: {', '.join(sorted(allowed))})", key)
    for key in ("prompt", "explanation"):
        value = question.get(key)
        if not isinstance(value, str) or not value.strip():
            error(f"{key!r} must be non-empty Markdown text", key if key in question else None)
    if "points" in question:
        points = question["points"]
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= 100:
            error("'points' must be a whole number from 1 to 100", "points")
    if kind in ("single", "multiple"):
        options = question.get("options")
        if not isinstance(options, list) or len(options) < 2 or len(options) > MAX_OPTIONS:
            error(f"'options' must list 2 to {MAX_OPTIONS} options", "options" if "options" in question else None)
            return errors
        correct = 0
        for option in options:
            if not isinstance(option, dict) or not set(option) <= {"text", "correct"} or "text" not in option:
                error("an option is a mapping with 'text' and, for a right answer, 'correct: true'", node=option)
                continue
            if not isinstance(option["text"], str) or not option["text"].strip():
                error("an option's 'text' must be non-empty text (quote numbers: '0.5')", "text", option)
            if "correct" in option and not isinstance(option["correct"], bool):
                error("an option's 'correct' must be true or false", "correct", option)
            correct += option.get("correct") is True
        if kind == "single" and correct != 1:
            error(f"a single-choice question needs exactly one correct option (found {correct})", "options")
        if kind == "multiple" and correct < 1:
            error("a multiple-select question needs at least one correct option", "options")
    elif kind == "numeric":
        if not _is_number(question.get("answer")):
            error("'answer' must be a number", "answer" if "answer" in question else None)
        tolerance = question.get("tolerance", 0)
        if not _is_number(tolerance) or tolerance < 0:
            error("'tolerance' must be a number >= 0", "tolerance")
    elif kind == "text":
        answers = question.get("answers", [])
        pattern = question.get("pattern")
        if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
            error("'answers' must be a list of accepted answers, as text (quote numbers)", "answers")
        if pattern is not None:
            if not isinstance(pattern, str) or not pattern:
                error("'pattern' must be a regular expression", "pattern")
            else:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    error(f"'pattern' is not a valid regular expression: {exc}", "pattern")
        if not answers and not pattern:
            error("a text question needs 'answers' or a 'pattern'")
        if "case_sensitive" in question and not isinstance(question["case_sensitive"], bool):
            error("'case_sensitive' must be true or false", "case_sensitive")
    return errors


class InvalidAnswer(ValueError):
    """An answer that cannot be checked (not a number, too long, an option that is not offered)."""


def parse_number(raw: str) -> float:
    text = (raw or "").strip().replace(",", ".").replace("\u2212", "-")
    try:
        value = float(text)
    except ValueError:
        raise InvalidAnswer("enter a number, such as 0.25 or 1e-3") from None
    if not math.isfinite(value):
        raise InvalidAnswer("enter a finite number")
    return value


def numeric_correct(value: float, *, answer: float, tolerance: float) -> bool:
    # A hair of slack so that 0.1 + 0.2 style rounding never fails an exact answer.
    return abs(value - answer) <= tolerance + 1e-9 * max(1.0, abs(answer))


def normalise_text(value: str, *, case_sensitive: bool) -> str:
    collapsed = " ".join(str(value).split())
    return collapsed if case_sensitive else collapsed.casefold()


def text_correct(value: str, *, answers: list, pattern: str, case_sensitive: bool) -> bool:
    if len(value) > MAX_TEXT_ANSWER:
        raise InvalidAnswer(f"keep the answer under {MAX_TEXT_ANSWER} characters")
    given = normalise_text(value, case_sensitive=case_sensitive)
    if not given:
        return False
    if any(normalise_text(str(a), case_sensitive=case_sensitive) == given for a in answers):
        return True
    if pattern:
        flags = 0 if case_sensitive else re.IGNORECASE
        return re.fullmatch(pattern, " ".join(str(value).split()), flags) is not None
    return False


def choice_correct(chosen: set[str], *, correct: set[str]) -> bool:
    """All or nothing: exactly the correct options (for single choice, the one correct option)."""
    return bool(chosen) and chosen == correct


# ---------------------------------------------------------------------------------------------
# In-video questions: plain mappings; options are identified by their index.


def public_in_video(question: dict, *, index: int, render) -> dict:
    """What the browser may know before the learner answers: no `correct`, no answer, no explanation."""
    data = {
        "index": index,
        "at": question["at"],
        "kind": question["kind"],
        "prompt_html": render(question["prompt"]),
    }
    if question["kind"] in ("single", "multiple"):
        data["options"] = [{"id": str(n), "html": render(str(o["text"]))} for n, o in enumerate(question["options"])]
    return data


def check_in_video(question: dict, values: list[str], *, render) -> dict:
    """Check an answer to an in-video question. Raises InvalidAnswer for a malformed one."""
    kind = question["kind"]
    if kind in ("single", "multiple"):
        offered = {str(n) for n in range(len(question["options"]))}
        chosen = {str(v) for v in values}
        if not chosen <= offered or (kind == "single" and len(chosen) > 1):
            raise InvalidAnswer("that option is not part of this question")
        correct_ids = {str(n) for n, o in enumerate(question["options"]) if o.get("correct")}
        correct = choice_correct(chosen, correct=correct_ids)
        answer_html = "".join(
            render(str(o["text"])) for n, o in enumerate(question["options"]) if str(n) in correct_ids
        )
        extra = {"correct_options": sorted(correct_ids)}
    elif kind == "numeric":
        value = parse_number(values[0] if values else "")
        correct = numeric_correct(value, answer=question["answer"], tolerance=question.get("tolerance", 0))
        answer_html = f"<p>{question['answer']:g}</p>"
        extra = {}
    else:
        correct = text_correct(
            values[0] if values else "",
            answers=question.get("answers", []),
            pattern=question.get("pattern", ""),
            case_sensitive=question.get("case_sensitive", False),
        )
        answer_html = render(str(question["answers"][0])) if question.get("answers") else ""
        extra = {}
    return {
        "correct": correct,
        "explanation_html": render(question["explanation"]),
        "answer_html": answer_html,
        **extra,
    }
