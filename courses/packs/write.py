"""Writing a pack back out (export): the same format `load.py` reads, so import -> export -> import is
lossless."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from .format import FORMAT_VERSION, PackData


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _dump(data, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")


def _without_defaults(data: dict, defaults: dict) -> dict:
    return {key: value for key, value in data.items() if key not in defaults or value != defaults[key]}


def write_pack(pack: PackData, out: Path, *, copy_file) -> None:
    """Write `pack` in the pack format under `out`. `copy_file(src, dest)` copies recorded videos."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "description.md").write_text(pack.description, encoding="utf-8")
    manifest = {
        "format": FORMAT_VERSION,
        "specialization": {
            "slug": pack.slug,
            "title": pack.title,
            "tagline": pack.tagline,
            "description": "description.md",
        },
        "courses": [course.slug for course in pack.courses],
    }
    if pack.interviews:
        manifest["interviews"] = "interviews.yaml"
    _dump(manifest, out / "pack.yaml")

    for course in pack.courses:
        folder = out / "courses" / course.slug
        weeks = []
        for week in course.weeks:
            items = []
            for item in week.items:
                entry = {
                    "kind": item.kind,
                    "slug": item.slug,
                    "title": item.title,
                    "preview": item.preview,
                    "minutes": item.minutes,
                    "release_date": item.release_date,
                    "release_after_days": item.release_after_days,
                    "due_after_days": item.due_after_days,
                }
                entry = _without_defaults(
                    entry,
                    {
                        "preview": False,
                        "minutes": 0,
                        "release_date": None,
                        "release_after_days": None,
                        "due_after_days": None,
                    },
                )
                if item.kind == "lecture":
                    entry.update(_without_defaults({"math": item.math}, {"math": False}))
                    if item.captions:
                        entry["captions"] = [dict(cue) for cue in item.captions]
                    if item.papers:
                        entry["papers"] = [
                            _without_defaults(dataclasses.asdict(paper), {"year": None, "url": ""})
                            for paper in item.papers
                        ]
                    if item.video is not None:
                        name = f"videos/{item.slug}{item.video.suffix}"
                        copy_file(item.video, folder / name)
                        entry["video"] = name
                    if item.questions:
                        entry["questions"] = [dict(question) for question in item.questions]
                elif item.kind == "reading":
                    name = item.body_file or f"readings/{item.slug}.md"
                    (folder / name).parent.mkdir(parents=True, exist_ok=True)
                    (folder / name).write_text(item.body, encoding="utf-8")
                    entry["body"] = name
                else:
                    entry.update(item.extra)
                items.append(entry)
            week_entry = {
                "title": week.title,
                "summary": week.summary,
                "release_date": week.release_date,
                "release_after_days": week.release_after_days,
                "items": items,
            }
            weeks.append(
                _without_defaults(week_entry, {"summary": "", "release_date": None, "release_after_days": None})
            )
        course_yaml = {
            "slug": course.slug,
            "title": course.title,
            "release_date": course.release_date,
            "completion": course.completion,
            "short_description": course.short_description,
            "description": course.description,
            "level": course.level,
            "estimated_hours": course.estimated_hours,
            "weeks": weeks,
        }
        _dump(
            _without_defaults(
                course_yaml,
                {
                    "release_date": None,
                    "completion": "graded",
                    "short_description": "",
                    "description": "",
                    "level": "",
                    "estimated_hours": None,
                },
            ),
            folder / "course.yaml",
        )

    if pack.interviews:
        interviews = []
        for interview in pack.interviews:
            entry = {
                "slug": interview.slug,
                "title": interview.title,
                "guest": interview.guest,
                "guest_title": interview.guest_title,
                "bio": interview.bio,
                "related_courses": interview.related_courses,
                "captions": [dict(cue) for cue in interview.captions],
            }
            if interview.video is not None:
                name = f"videos/interviews/{interview.slug}{interview.video.suffix}"
                copy_file(interview.video, out / name)
                entry["video"] = name
            interviews.append(
                _without_defaults(entry, {"guest_title": "", "bio": "", "related_courses": [], "captions": []})
            )
        _dump(interviews, out / "interviews.yaml")
