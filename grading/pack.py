"""Assignments in content packs: `kind: assignment` items with an `assignment:` folder.

    - kind: assignment
      slug: logistic-regression
      title: Logistic regression with a neural-network mindset
      assignment: assignments/logistic-regression     # a folder in our pack format
      format: pack                                    # or nbgrader / otter: then `assignment` is the notebook

Importing creates the Assignment and a draft grader version when the grader changed; publishing
(which runs the self-check in the sandbox) is separate: `python manage.py publish_graders`.
Registered with courses.registry in GradingConfig.ready, as quizzes/pack.py is for quizzes.
"""

from __future__ import annotations

from pathlib import Path

from courses.api import PackHandler

from .spec import SpecError

FORMATS = ("pack", "nbgrader", "otter")
KEYS = {"assignment", "format"}


def _source(extra: dict, base: Path) -> tuple[str, Path]:
    return extra.get("format", "pack"), (base / str(extra.get("assignment", ""))).resolve()


def validate(extra: dict, base: Path) -> list:
    from . import importers

    errors: list = [(key, f"unknown key {key!r} (allowed: assignment, format)") for key in extra if key not in KEYS]
    if not isinstance(extra.get("assignment"), str) or not extra["assignment"]:
        return [*errors, "needs `assignment:` the path of its folder (or notebook) in the pack"]
    fmt, source = _source(extra, base)
    if fmt not in FORMATS:
        return [*errors, ("format", f"format must be one of {', '.join(FORMATS)}")]
    if not source.exists():
        return [*errors, ("assignment", f"{extra['assignment']} does not exist in the pack")]
    try:
        bundle = importers.load_bundle(fmt, source)
        bundle.validate()
        if fmt == "pack":
            importers.load_settings(source)
    except SpecError as exc:
        errors.append(("assignment", str(exc)))
    return errors


def apply(item, extra: dict, base: Path) -> None:
    from . import importers, services
    from .models import Assignment

    fmt, source = _source(extra, base)
    bundle = importers.load_bundle(fmt, source)
    settings = importers.load_settings(source) if fmt == "pack" else {}
    fields = {key: value for key, value in settings.items() if key in ASSIGNMENT_SETTINGS}
    assignment, _ = Assignment.objects.update_or_create(
        item=item, defaults={"instructions": bundle.instructions, **fields}
    )
    services.grader_version_create(assignment=assignment, bundle=bundle, notes=f"imported from {source.name}")


ASSIGNMENT_SETTINGS = (
    "time_limit_seconds", "cell_timeout_seconds", "memory_mb", "max_attempts", "cooldown_minutes", "pass_percent",
    "max_upload_bytes",
)  # fmt: skip


def export(item, base: Path) -> dict:
    """Write the latest grader version back as a pack folder."""
    from . import importers
    from .spec import AssignmentBundle, TestSpec

    assignment = getattr(item, "assignment", None)
    if assignment is None:
        return dict(item.pack_extra)
    version = assignment.versions.order_by("-number").first()
    if version is None:
        return dict(item.pack_extra)
    tests = []
    for data in version.tests:
        data = {k: v for k, v in data.items() if k not in {"expected", "has_expected"}}
        tests.append(TestSpec.from_dict(data))
    bundle = AssignmentBundle(
        title=item.title,
        starter=version.starter,
        solution=version.solution,
        tests=tests,
        instructions=assignment.instructions,
        source_format="pack",
    )
    folder = f"assignments/{item.slug}"
    settings = {key: getattr(assignment, key) for key in ASSIGNMENT_SETTINGS}
    importers.write_pack(bundle, base / folder, settings=settings)
    return {"assignment": folder}


handler = PackHandler(validate=validate, apply=apply, export=export)
