"""Reading a pack folder: every file parsed with the bounded YAML loader, every value validated, every
problem collected with its file and line before anything is written (then `PackError` lists them all).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from .. import registry
from . import bounded_yaml
from .bounded_yaml import LineDict, plain
from .format import (
    COMMON_ITEM_KEYS,
    COMPLETION_RULES,
    COURSE_KEYS,
    FORMAT_VERSION,
    GRADED_KINDS,
    INTERVIEW_KEYS,
    ITEM_KEYS,
    ITEM_KINDS,
    PACK_KEYS,
    PAPER_KEYS,
    SLUG_RE,
    SPEC_KEYS,
    WEEK_KEYS,
    CourseData,
    InterviewData,
    ItemData,
    PackData,
    PackError,
    PaperData,
    WeekData,
)


class _Reader:
    """Collects errors with file and line while reading a pack."""

    def __init__(self, root: Path):
        self.root = root
        self.errors: list[str] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def error(self, path: Path, line: int, message: str) -> None:
        where = f"{self.rel(path)}:{line}" if line else self.rel(path)  # line 0: about the whole file
        self.errors.append(f"{where}: {message}")

    def load_yaml(self, path: Path) -> Any:
        """The file's YAML within the loader's bounds, else None with the error recorded."""
        try:
            return bounded_yaml.load_file(path)
        except bounded_yaml.YamlError as exc:
            self.error(path, exc.line, exc.message)
            return None

    def read_text(self, path: Path, *, base: Path, line: int, where: Path) -> str:
        resolved = (base / path).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            self.error(where, line, f"{path} points outside the pack")
            return ""
        if not resolved.is_file():
            self.error(where, line, f"file not found: {self.rel(base / path)}")
            return ""
        try:
            return resolved.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.error(where, line, f"{self.rel(base / path)} is not UTF-8 text")
            return ""

    # Field helpers: each returns a clean value or records an error and returns a default.
    def mapping(self, value, path: Path, line: int, what: str) -> LineDict | None:
        if not isinstance(value, dict):
            self.error(path, getattr(value, "line", line), f"{what} must be a mapping")
            return None
        return value

    def check_keys(self, data: LineDict, path: Path, allowed: set[str], required: set[str], what: str) -> None:
        for key in data:
            if key not in allowed:
                self.error(
                    path, data.line_of(key), f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})"
                )
        for key in sorted(required - set(data)):
            self.error(path, data.line, f"{what} is missing required key {key!r}")

    def string(self, data: LineDict, key: str, path: Path, *, required=False, max_length=None, default="") -> str:
        if key not in data or data[key] is None:
            return default
        value = data[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.error(path, data.line_of(key), f"{key!r} must be text")
            return default
        value = value.strip() if key not in {"description", "bio", "summary"} else value.strip("\n")
        if required and not value:
            self.error(path, data.line_of(key), f"{key!r} must not be empty")
        if max_length and len(value) > max_length:
            self.error(path, data.line_of(key), f"{key!r} is longer than {max_length} characters")
        return value

    def slug(self, data: LineDict, key: str, path: Path) -> str:
        value = self.string(data, key, path, required=True, max_length=50)
        if value and not SLUG_RE.match(value):
            self.error(path, data.line_of(key), f"{key!r} {value!r} must be lowercase letters, digits and hyphens")
        return value

    def boolean(self, data: LineDict, key: str, path: Path) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.error(path, data.line_of(key), f"{key!r} must be true or false")
            return False
        return value

    def integer(self, data: LineDict, key: str, path: Path, *, default=None, minimum=0):
        value = data.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(path, data.line_of(key), f"{key!r} must be a whole number >= {minimum}")
            return default
        return value

    def date(self, data: LineDict, key: str, path: Path) -> datetime.date | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        self.error(path, data.line_of(key), f"{key!r} must be a date like 2026-01-31")
        return None

    def release(self, data: LineDict, path: Path, what: str) -> tuple[datetime.date | None, int | None]:
        """`release_date` or `release_after_days`, never both."""
        day = self.date(data, "release_date", path)
        after = self.integer(data, "release_after_days", path)
        if "release_date" in data and "release_after_days" in data:
            self.error(
                path,
                data.line_of("release_after_days"),
                f"{what}: give 'release_date' (a date) or 'release_after_days' (days after the learner's start), "
                "not both",
            )
            return day, None
        return day, after

    def captions(self, data: LineDict, path: Path) -> list[dict]:
        raw = data.get("captions")
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(path, data.line_of("captions"), "'captions' must be a list of {start, end, text}")
            return []
        cues, previous_end = [], 0.0
        for cue in raw:
            line = getattr(cue, "line", data.line_of("captions"))
            if not isinstance(cue, dict) or set(cue) != {"start", "end", "text"}:
                self.error(path, line, "a caption needs exactly start, end and text")
                continue
            start, end, text = cue["start"], cue["end"], cue["text"]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end)):
                self.error(path, line, "caption start and end must be numbers of seconds")
                continue
            if not isinstance(text, str) or not text.strip():
                self.error(path, line, "caption text must not be empty")
                continue
            if start < previous_end - 1e-9 or end <= start:
                self.error(path, line, f"caption {start}-{end} overlaps the previous one or ends before it starts")
                continue
            previous_end = end
            cues.append({"start": float(start), "end": float(end), "text": text.strip()})
        return cues

    def video(self, data: LineDict, path: Path, base: Path) -> Path | None:
        value = data.get("video")
        if value is None:
            return None
        if not isinstance(value, str) or not value.lower().endswith((".mp4", ".webm")):
            self.error(path, data.line_of("video"), "'video' must be the path of an .mp4 or .webm file in the pack")
            return None
        resolved = (base / value).resolve()
        if not resolved.is_relative_to(self.root.resolve()) or not resolved.is_file():
            self.error(path, data.line_of("video"), f"video file not found in the pack: {value}")
            return None
        return resolved


def load_pack(root: Path | str) -> PackData:
    """Read and validate a pack folder. Raises PackError listing every problem found."""
    root = Path(root).resolve()
    reader = _Reader(root)
    pack_file = root / "pack.yaml"
    if not root.is_dir():
        raise PackError([f"{root}: not a folder"])
    raw = reader.load_yaml(pack_file)
    pack = PackData(root=root, slug="", title="")
    if raw is None:
        raise PackError(reader.errors)
    data = reader.mapping(raw, pack_file, 1, "pack.yaml")
    if data is None:
        raise PackError(reader.errors)
    reader.check_keys(data, pack_file, PACK_KEYS, {"format", "specialization", "courses"}, "pack.yaml")
    if data.get("format") != FORMAT_VERSION:
        reader.error(pack_file, data.line_of("format"), f"'format' must be {FORMAT_VERSION}")

    spec = reader.mapping(data.get("specialization"), pack_file, data.line_of("specialization"), "'specialization'")
    if spec is not None:
        reader.check_keys(spec, pack_file, SPEC_KEYS, {"slug", "title"}, "the specialization")
        pack.slug = reader.slug(spec, "slug", pack_file)
        pack.title = reader.string(spec, "title", pack_file, required=True, max_length=200)
        pack.tagline = reader.string(spec, "tagline", pack_file, max_length=300)
        description = reader.string(spec, "description", pack_file)
        if description.endswith(".md"):
            description = reader.read_text(
                Path(description), base=root, line=spec.line_of("description"), where=pack_file
            )
        pack.description = description

    course_dirs = data.get("courses") or []
    if not isinstance(course_dirs, list) or not course_dirs:
        reader.error(pack_file, data.line_of("courses"), "'courses' must list at least one course folder")
        course_dirs = []
    seen_courses: set[str] = set()
    for order, name in enumerate(course_dirs, start=1):
        if not isinstance(name, str) or not SLUG_RE.match(name):
            reader.error(pack_file, data.line_of("courses"), f"course folder {name!r} must be a slug")
            continue
        if name in seen_courses:
            reader.error(pack_file, data.line_of("courses"), f"course {name!r} is listed twice")
            continue
        seen_courses.add(name)
        course = _load_course(reader, root / "courses" / name, name, order)
        if course is not None:
            pack.courses.append(course)

    interviews_file = data.get("interviews")
    if interviews_file is not None:
        if not isinstance(interviews_file, str):
            reader.error(pack_file, data.line_of("interviews"), "'interviews' must be a file name")
        else:
            pack.interviews = _load_interviews(
                reader, root / interviews_file, [c for c in course_dirs if c in seen_courses]
            )

    if reader.errors:
        raise PackError(reader.errors)
    return pack


def _load_course(reader: _Reader, folder: Path, name: str, order: int) -> CourseData | None:
    path = folder / "course.yaml"
    raw = reader.load_yaml(path)
    if raw is None:
        return None
    data = reader.mapping(raw, path, 1, "course.yaml")
    if data is None:
        return None
    reader.check_keys(data, path, COURSE_KEYS, {"slug", "title", "weeks"}, "the course")
    course = CourseData(
        slug=reader.slug(data, "slug", path),
        title=reader.string(data, "title", path, required=True, max_length=200),
        order=order,
        release_date=reader.date(data, "release_date", path),
        short_description=reader.string(data, "short_description", path, max_length=300),
        description=reader.string(data, "description", path),
        level=reader.string(data, "level", path, max_length=50),
        estimated_hours=reader.integer(data, "estimated_hours", path),
        completion=reader.string(data, "completion", path, default="graded") or "graded",
    )
    if course.completion not in COMPLETION_RULES:
        reader.error(
            path,
            data.line_of("completion"),
            f"'completion' must be one of {', '.join(COMPLETION_RULES)} (graded: every graded item passed; "
            "all: every item completed)",
        )
    if course.slug and course.slug != name:
        reader.error(path, data.line_of("slug"), f"slug {course.slug!r} must match its folder name {name!r}")
    weeks = data.get("weeks")
    if not isinstance(weeks, list) or not weeks:
        reader.error(path, data.line_of("weeks"), "'weeks' must list at least one week")
        return course
    seen_slugs: dict[str, int] = {}
    for number, raw_week in enumerate(weeks, start=1):
        week_data = reader.mapping(raw_week, path, data.line_of("weeks"), f"week {number}")
        if week_data is None:
            continue
        reader.check_keys(week_data, path, WEEK_KEYS, {"title", "items"}, f"week {number}")
        week = WeekData(
            number=number,
            title=reader.string(week_data, "title", path, required=True, max_length=200),
            summary=reader.string(week_data, "summary", path),
        )
        week.release_date, week.release_after_days = reader.release(week_data, path, f"week {number}")
        if week.release_date and course.release_date and week.release_date < course.release_date:
            reader.error(
                path,
                week_data.line_of("release_date"),
                f"week {number} opens on {week.release_date}, before its course ({course.release_date})",
            )
        items = week_data.get("items")
        if not isinstance(items, list):
            reader.error(path, week_data.line_of("items"), f"week {number}: 'items' must be a list")
            items = []
        for raw_item in items:
            item = _load_item(reader, path, folder, raw_item, week_data.line_of("items"))
            if item is None:
                continue
            if item.slug in seen_slugs:
                reader.error(
                    path, raw_item.line, f"item slug {item.slug!r} is already used on line {seen_slugs[item.slug]}"
                )
                continue
            seen_slugs[item.slug] = raw_item.line
            opens_after = week.release_date or course.release_date
            if item.release_date and opens_after and item.release_date < opens_after:
                reader.error(
                    path,
                    raw_item.line_of("release_date"),
                    f"item {item.slug!r} opens on {item.release_date}, before its "
                    f"{'week' if week.release_date else 'course'} ({opens_after})",
                )
            week.items.append(item)
        course.weeks.append(week)
    return course


def _load_item(reader: _Reader, path: Path, folder: Path, raw, line: int) -> ItemData | None:
    data = reader.mapping(raw, path, line, "an item")
    if data is None:
        return None
    kind = data.get("kind")
    if kind not in ITEM_KINDS:
        reader.error(path, data.line_of("kind"), f"item kind {kind!r} must be one of {', '.join(ITEM_KINDS)}")
        return None
    # Quiz, assignment and peer-review items carry fields their own apps define; only the common
    # keys are checked here and the rest travels verbatim in `extra`.
    allowed = ITEM_KEYS.get(kind)
    if allowed is not None:
        reader.check_keys(data, path, allowed, {"kind", "slug", "title"}, f"{kind} item")
    else:
        reader.check_keys(data, path, set(data) | COMMON_ITEM_KEYS, {"kind", "slug", "title"}, f"{kind} item")
    item = ItemData(
        kind=kind,
        slug=reader.slug(data, "slug", path),
        title=reader.string(data, "title", path, required=True, max_length=200),
        preview=reader.boolean(data, "preview", path),
        minutes=reader.integer(data, "minutes", path, default=0),
    )
    item.release_date, item.release_after_days = reader.release(data, path, f"item {item.slug!r}")
    item.due_after_days = reader.integer(data, "due_after_days", path, minimum=1)
    if item.due_after_days is not None:
        if kind not in GRADED_KINDS:
            reader.error(path, data.line_of("due_after_days"), "'due_after_days' is for graded items only")
            item.due_after_days = None
        elif item.due_after_days > 7:
            reader.error(
                path, data.line_of("due_after_days"), "'due_after_days' must be 1 to 7 (a deadline inside the week)"
            )
            item.due_after_days = None
    if kind == "lecture":
        item.math = reader.boolean(data, "math", path)
        item.captions = reader.captions(data, path)
        item.video = reader.video(data, path, folder)
        item.questions = _lecture_questions(reader, data, path, item.captions)
        if not item.captions and item.video is None:
            reader.error(
                path,
                data.line,
                f"lecture {item.slug!r} needs captions (its video is rendered from them) or a video file",
            )
        papers = data.get("papers") or []
        if not isinstance(papers, list):
            reader.error(path, data.line_of("papers"), "'papers' must be a list")
            papers = []
        for raw_paper in papers:
            paper = reader.mapping(raw_paper, path, data.line_of("papers"), "a paper")
            if paper is None:
                continue
            reader.check_keys(paper, path, PAPER_KEYS, {"title", "authors"}, "a paper")
            url = reader.string(paper, "url", path, max_length=200)
            if url and not url.startswith(("https://", "http://")):
                reader.error(path, paper.line_of("url"), "a paper's url must start with https://")
            item.papers.append(
                PaperData(
                    title=reader.string(paper, "title", path, required=True, max_length=300),
                    authors=reader.string(paper, "authors", path, required=True, max_length=300),
                    year=reader.integer(paper, "year", path, minimum=1800),
                    url=url,
                )
            )
    elif kind == "reading":
        body = reader.string(data, "body", path, required=True)
        if body.endswith(".md") and "\n" not in body:
            item.body_file = body
            body = reader.read_text(Path(body), base=folder, line=data.line_of("body"), where=path)
        item.body = body
    else:
        raw_extra = {key: value for key, value in data.items() if key not in COMMON_ITEM_KEYS}
        item.extra = plain(raw_extra)
        handler = registry.pack_handler_for(kind)
        if handler is not None:
            # The handler sees the values with their line numbers (mappings and lists keep a `line`
            # attribute), so an error may name the line of a nested value: (line: int, message).
            for problem in handler.validate(raw_extra, folder):
                key, message = problem if isinstance(problem, tuple) else (None, problem)
                line = key if isinstance(key, int) else data.line_of(key) if key else data.line
                reader.error(path, line, f"{kind} {item.slug!r}: {message}")
    return item


def _lecture_questions(reader: _Reader, data: LineDict, path: Path, captions: list[dict]) -> list[dict]:
    """In-video questions: each pauses the lecture at `at` seconds; the rest is a quiz question."""
    raw = data.get("questions")
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.error(path, data.line_of("questions"), "'questions' must be a list of in-video questions")
        return []
    duration = captions[-1]["end"] if captions else None
    validator = registry.question_validator()
    questions, previous = [], -1.0
    for raw_question in raw:
        line = getattr(raw_question, "line", data.line_of("questions"))
        if not isinstance(raw_question, dict):
            reader.error(path, line, "an in-video question must be a mapping with 'at' and the question")
            continue
        at = raw_question.get("at")
        if isinstance(at, bool) or not isinstance(at, (int, float)) or at < 0:
            reader.error(path, raw_question.line_of("at"), "'at' must be the number of seconds where the video pauses")
            continue
        if duration is not None and at > duration:
            reader.error(path, raw_question.line_of("at"), f"'at' {at} is after the end of the lecture ({duration} s)")
            continue
        if at <= previous:
            reader.error(path, raw_question.line_of("at"), "in-video questions must be in order of their 'at' time")
            continue
        previous = at
        body = LineDict((key, value) for key, value in raw_question.items() if key != "at")
        body.line, body.key_lines = raw_question.line, raw_question.key_lines
        for problem in validator(body) if validator else []:
            where, message = problem if isinstance(problem, tuple) else (line, problem)
            reader.error(path, where, f"in-video question at {at} s: {message}")
        questions.append(plain(raw_question))
    return questions


def _load_interviews(reader: _Reader, path: Path, course_slugs: list[str]) -> list[InterviewData]:
    raw = reader.load_yaml(path)
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.error(path, 1, "the interviews file must be a list")
        return []
    interviews, seen = [], set()
    for order, raw_interview in enumerate(raw, start=1):
        data = reader.mapping(raw_interview, path, getattr(raw, "line", 1), "an interview")
        if data is None:
            continue
        reader.check_keys(data, path, INTERVIEW_KEYS, {"slug", "title", "guest"}, "an interview")
        interview = InterviewData(
            slug=reader.slug(data, "slug", path),
            title=reader.string(data, "title", path, required=True, max_length=200),
            guest=reader.string(data, "guest", path, required=True, max_length=200),
            order=order,
            guest_title=reader.string(data, "guest_title", path, max_length=300),
            bio=reader.string(data, "bio", path),
            captions=reader.captions(data, path),
            video=reader.video(data, path, path.parent),
        )
        if interview.slug in seen:
            reader.error(path, data.line_of("slug"), f"interview slug {interview.slug!r} is used twice")
        seen.add(interview.slug)
        related = data.get("related_courses") or []
        if not isinstance(related, list):
            reader.error(path, data.line_of("related_courses"), "'related_courses' must be a list of course slugs")
            related = []
        for slug in related:
            if slug not in course_slugs:
                reader.error(path, data.line_of("related_courses"), f"related course {slug!r} is not in this pack")
            else:
                interview.related_courses.append(slug)
        # A set of courses: kept in teaching order so export writes it back the same way.
        interview.related_courses.sort(key=course_slugs.index)
        interviews.append(interview)
    return interviews
