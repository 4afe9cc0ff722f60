"""How a peer-review assignment travels in a content pack (registered in PeerReviewConfig.ready).

    - kind: peer_review
      slug: case-study-write-up
      title: "Case Study Write-up"
      instructions: Markdown                 (what to write; shown above the form)
      submit:                                (optional; default: Markdown text only)
        text: true
        files: [".pdf", ".png"]              (file types accepted besides the text)
        max_file_mb: 5
        notebook: false                      (a .ipynb shown read-only to reviewers, never executed)
      pass_percent: 60                       (default 60)
      reviews_to_give: 3                     (default 3)
      reviews_to_receive: 3                  (default 3)
      submission_deadline: "2026-09-01T12:00:00+00:00"   (optional, ISO 8601 with a time zone)
      review_deadline: "2026-09-08T12:00:00+00:00"       (optional)
      short_after_days: 7                    (default 7: then fewer reviews needed, then the staff queue)
      training_tolerance: 20                 (default 20 points of 100)
      rubric:
        - name: problem                      (a slug: reviews send scores keyed by it)
          prompt: "Is the problem framed?"   (Markdown)
          weight: 1                          (default 1)
          comment: true                      (default true: reviewers may comment)
          options:
            - {label: "Not framed", points: 0}
            - {label: "Clearly framed", points: 2}
      examples:                              (staff-scored: the training step and the calibration pool)
        - text: Markdown
          scores: {problem: 2}
          training: true                     (default true)

Export writes the same keys back and leaves out the defaults, so import → export → import is lossless.
Once a review exists the rubric is frozen: a pack that changes it is refused (and nothing is imported).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from courses import api as courses

from . import scoring
from .models import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_PASS_PERCENT,
    DEFAULT_REVIEWS,
    DEFAULT_SHORT_AFTER_DAYS,
    DEFAULT_TRAINING_TOLERANCE,
    Assignment,
    Criterion,
    Option,
    Submission,
)

NUMBERS = {
    # key: (default, minimum, maximum)
    "pass_percent": (DEFAULT_PASS_PERCENT, 1, 100),
    "reviews_to_give": (DEFAULT_REVIEWS, 1, 20),
    "reviews_to_receive": (DEFAULT_REVIEWS, 1, 20),
    "short_after_days": (DEFAULT_SHORT_AFTER_DAYS, 1, 365),
    "training_tolerance": (DEFAULT_TRAINING_TOLERANCE, 1, 100),
}
DATES = ("submission_deadline", "review_deadline")
KEYS = {"instructions", "submit", "rubric", "examples", *NUMBERS, *DATES}
SUBMIT_KEYS = {"text", "files", "max_file_mb", "notebook"}
CRITERION_KEYS = {"name", "prompt", "weight", "comment", "options"}
OPTION_KEYS = {"label", "points"}
EXAMPLE_KEYS = {"text", "scores", "training"}


def _line(node, key=None):
    if key is not None and hasattr(node, "line_of"):
        return node.line_of(key)
    return getattr(node, "line", None)


def _int(value, low, high) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _date(value) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        try:
            parsed = datetime.datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return parsed if timezone.is_aware(parsed) else None


def validate(extra: dict, base: Path) -> list:
    errors: list = [
        (key, f"unknown key {key!r} (allowed: {', '.join(sorted(KEYS))})") for key in extra if key not in KEYS
    ]
    for key, (_default, low, high) in NUMBERS.items():
        if key in extra and not _int(extra[key], low, high):
            errors.append((key, f"{key!r} must be a whole number from {low} to {high}"))
    for key in DATES:
        if key in extra and _date(extra[key]) is None:
            errors.append((key, f"{key!r} must be an ISO 8601 date and time with a time zone (…T12:00:00+00:00)"))
    dates = [_date(extra[key]) if key in extra else None for key in DATES]
    if all(dates) and dates[1] < dates[0]:
        errors.append(("review_deadline", "the review deadline comes before the submission deadline"))
    if not isinstance(extra.get("instructions", ""), str):
        errors.append(("instructions", "'instructions' must be Markdown text"))
    errors += _validate_submit(extra)
    criteria, rubric_errors = _validate_rubric(extra)
    errors += rubric_errors
    errors += _validate_examples(extra, criteria)
    return errors


def _validate_submit(extra: dict) -> list:
    submit = extra.get("submit")
    if submit is None:
        return []
    if not isinstance(submit, dict):
        return [("submit", "'submit' is a mapping of text, files, max_file_mb, notebook")]
    errors = [(_line(submit, k), f"submit: unknown key {k!r} (allowed: {', '.join(sorted(SUBMIT_KEYS))})")
              for k in submit if k not in SUBMIT_KEYS]  # fmt: skip
    for key in ("text", "notebook"):
        if key in submit and not isinstance(submit[key], bool):
            errors.append((_line(submit, key), f"submit: {key!r} must be true or false"))
    files = submit.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) and f.startswith(".") and len(f) <= 10 for f in files):
        errors.append((_line(submit, "files"), "submit: 'files' lists extensions such as \".pdf\""))
    elif ".ipynb" in files:
        errors.append((_line(submit, "files"), "submit: use 'notebook: true' for notebooks, not '.ipynb' in files"))
    if "max_file_mb" in submit and not _int(submit["max_file_mb"], 1, 100):
        errors.append((_line(submit, "max_file_mb"), "submit: 'max_file_mb' must be a whole number from 1 to 100"))
    if submit.get("text", True) is False and not files and not submit.get("notebook"):
        errors.append(("submit", "submit: the assignment must accept text, files or a notebook"))
    return errors


def _validate_rubric(extra: dict) -> tuple[dict[str, set[int]], list]:
    rubric = extra.get("rubric")
    if not isinstance(rubric, list) or not rubric:
        return {}, [("rubric", "'rubric' must list at least one criterion")]
    errors: list = []
    criteria: dict[str, set[int]] = {}
    for number, crit in enumerate(rubric, start=1):
        where = f"rubric criterion {number}"
        if not isinstance(crit, dict):
            errors.append((_line(crit) or "rubric", f"{where} is a mapping of name, prompt, weight, comment, options"))
            continue
        errors += [(_line(crit, k), f"{where}: unknown key {k!r}") for k in crit if k not in CRITERION_KEYS]
        name = crit.get("name")
        if not isinstance(name, str) or not courses.SLUG_RE.match(name):
            errors.append((_line(crit, "name") or _line(crit), f"{where}: 'name' must be a slug (lower case, dashes)"))
            continue
        if name in criteria:
            errors.append((_line(crit, "name"), f"{where}: criterion name {name!r} is used twice"))
        if not isinstance(crit.get("prompt"), str) or not crit["prompt"].strip():
            errors.append((_line(crit, "prompt") or _line(crit), f"{where}: 'prompt' is required"))
        weight = crit.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 100:
            errors.append((_line(crit, "weight"), f"{where}: 'weight' must be a number above 0 (at most 100)"))
        if "comment" in crit and not isinstance(crit["comment"], bool):
            errors.append((_line(crit, "comment"), f"{where}: 'comment' must be true or false"))
        options = crit.get("options")
        if not isinstance(options, list) or len(options) < 2:
            errors.append((_line(crit, "options") or _line(crit), f"{where}: 'options' must list at least two options"))
            continue
        points: set[int] = set()
        for option in options:
            if not isinstance(option, dict) or set(option) != OPTION_KEYS:
                errors.append((_line(option) or _line(crit, "options"), f"{where}: an option is {{label, points}}"))
                continue
            if not isinstance(option["label"], str) or not option["label"].strip() or len(option["label"]) > 300:
                errors.append((_line(option, "label"), f"{where}: an option's label is text (at most 300 characters)"))
            if not _int(option["points"], 0, 1000):
                errors.append((_line(option, "points"), f"{where}: 'points' must be a whole number from 0 to 1000"))
            elif option["points"] in points:
                errors.append((_line(option, "points"), f"{where}: two options give {option['points']} points"))
            else:
                points.add(option["points"])
        if points and max(points) == 0:
            errors.append((_line(crit, "options"), f"{where}: at least one option must give points"))
        criteria[name] = points
    return criteria, errors


def _validate_examples(extra: dict, criteria: dict[str, set[int]]) -> list:
    examples = extra.get("examples", [])
    if not isinstance(examples, list):
        return [("examples", "'examples' must be a list")]
    errors: list = []
    for number, example in enumerate(examples, start=1):
        where = f"example {number}"
        if not isinstance(example, dict):
            errors.append((_line(example) or "examples", f"{where} is a mapping of text, scores, training"))
            continue
        errors += [(_line(example, k), f"{where}: unknown key {k!r}") for k in example if k not in EXAMPLE_KEYS]
        if not isinstance(example.get("text"), str) or not example["text"].strip():
            errors.append((_line(example, "text") or _line(example), f"{where}: 'text' is required"))
        if "training" in example and not isinstance(example["training"], bool):
            errors.append((_line(example, "training"), f"{where}: 'training' must be true or false"))
        scores = example.get("scores")
        if not isinstance(scores, dict):
            errors.append(
                (_line(example, "scores") or _line(example), f"{where}: 'scores' maps each criterion to points")
            )
            continue
        for name, offered in criteria.items():
            if name not in scores:
                errors.append((_line(example, "scores"), f"{where}: no score for criterion {name!r}"))
            elif scores[name] not in offered or isinstance(scores[name], bool):
                errors.append((_line(scores, name), f"{where}: {scores[name]!r} is not an option of {name!r}"))
        for name in scores:
            if criteria and name not in criteria:
                errors.append((_line(scores, name), f"{where}: {name!r} is not a criterion of the rubric"))
    return errors


def _rubric_data(extra: dict) -> list[dict]:
    return [
        {
            "name": c["name"],
            "prompt": c["prompt"],
            "weight": float(c.get("weight", 1)),
            "comment": c.get("comment", True),
            "options": [(o["label"], o["points"]) for o in c["options"]],
        }
        for c in extra["rubric"]
    ]


def _rubric_of(assignment: Assignment) -> list[dict]:
    return [
        {
            "name": c.name,
            "prompt": c.prompt,
            "weight": float(c.weight),
            "comment": c.comment_box,
            "options": [(o.label, o.points) for o in c.options.all()],
        }
        for c in assignment.criteria.prefetch_related("options")
    ]


@transaction.atomic
def apply(item, extra: dict, base: Path) -> None:
    assignment = Assignment.objects.filter(item=item).first() or Assignment(item=item)
    submit = extra.get("submit") or {}
    assignment.instructions = extra.get("instructions", "")
    assignment.accepts_text = submit.get("text", True)
    assignment.file_types = list(submit.get("files", []))
    assignment.max_file_bytes = submit.get("max_file_mb", DEFAULT_MAX_FILE_BYTES // 2**20) * 2**20
    assignment.accepts_notebook = submit.get("notebook", False)
    for key, (default, _low, _high) in NUMBERS.items():
        setattr(assignment, key, extra.get(key, default))
    for key in DATES:
        setattr(assignment, key, _date(extra[key]) if key in extra else None)
    assignment.save()
    wanted = _rubric_data(extra)
    if _rubric_of(assignment) != wanted:
        if assignment.rubric_frozen_at is not None:
            raise courses.PackError(
                [
                    f"peer_review {item.course.slug}/{item.slug}: the rubric is frozen since "
                    f"{assignment.rubric_frozen_at:%Y-%m-%d} (reviews were given with it); nothing was imported. "
                    "Keep the rubric as it is, or add a new assignment."
                ]
            )
        assignment.criteria.all().delete()
        for order, data in enumerate(wanted):
            criterion = Criterion.objects.create(
                assignment=assignment, order=order, name=data["name"], prompt=data["prompt"],
                weight=data["weight"], comment_box=data["comment"],
            )  # fmt: skip
            Option.objects.bulk_create(
                Option(criterion=criterion, order=n, label=label, points=points)
                for n, (label, points) in enumerate(data["options"])
            )
    crits = [scoring.Crit(d["name"], d["weight"], max(p for _l, p in d["options"])) for d in wanted]
    existing = list(Submission.objects.filter(assignment=assignment, is_example=True).order_by("order", "id"))
    examples = extra.get("examples", [])
    for order, data in enumerate(examples):
        example = existing[order] if order < len(existing) else Submission(assignment=assignment, is_example=True)
        example.order, example.text = order, data["text"]
        example.is_training = data.get("training", True)
        example.staff_scores = dict(data["scores"])
        example.staff_percent = round(scoring.review_percent(example.staff_scores, crits), 2)
        example.superseded = False
        example.created_at = example.created_at or timezone.now()
        example.save()
    for example in existing[len(examples) :]:  # removed from the pack: kept for the reviews that cite them
        if example.reviews.exists():
            Submission.objects.filter(pk=example.pk).update(superseded=True, is_training=False)
        else:
            example.delete()


def export(item, base: Path) -> dict:
    assignment = Assignment.objects.filter(item=item).first()
    if assignment is None:
        return dict(item.pack_extra)
    out: dict = {}
    if assignment.instructions:
        out["instructions"] = assignment.instructions
    submit: dict = {}
    if not assignment.accepts_text:
        submit["text"] = False
    if assignment.file_types:
        submit["files"] = list(assignment.file_types)
    if assignment.max_file_bytes != DEFAULT_MAX_FILE_BYTES:
        submit["max_file_mb"] = assignment.max_file_bytes // 2**20
    if assignment.accepts_notebook:
        submit["notebook"] = True
    if submit:
        out["submit"] = submit
    for key, (default, _low, _high) in NUMBERS.items():
        if getattr(assignment, key) != default:
            out[key] = getattr(assignment, key)
    for key in DATES:
        if getattr(assignment, key):
            out[key] = getattr(assignment, key).isoformat()
    out["rubric"] = []
    for data in _rubric_of(assignment):
        crit: dict = {"name": data["name"], "prompt": data["prompt"]}
        if data["weight"] != 1:
            crit["weight"] = int(data["weight"]) if data["weight"].is_integer() else data["weight"]
        if not data["comment"]:
            crit["comment"] = False
        crit["options"] = [{"label": label, "points": points} for label, points in data["options"]]
        out["rubric"].append(crit)
    examples = Submission.objects.filter(assignment=assignment, is_example=True, superseded=False).order_by(
        "order", "id"
    )
    if examples:
        out["examples"] = [
            {"text": e.text, "scores": dict(e.staff_scores or {}), **({} if e.is_training else {"training": False})}
            for e in examples
        ]
    return out


handler = courses.PackHandler(validate=validate, apply=apply, export=export)
