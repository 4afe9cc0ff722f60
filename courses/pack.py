"""Content packs: a course specialization as a folder of YAML and Markdown.

    pack.yaml                       format, the specialization, course folders in order, interviews file
    description.md                  specialization description
    interviews.yaml                 Heroes of Deep Learning interviews
    courses/<slug>/course.yaml      course, weeks, items
    courses/<slug>/readings/*.md    reading bodies
    courses/<slug>/videos/*.mp4     optional recorded videos (otherwise one is rendered from the captions)

Loading validates everything and collects every error with its file and line before anything is
written; `courses.services.pack_apply` then writes it in one transaction. Export writes the same
format back, so import → export → import is lossless.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from pathlib import Path
from typing import Any

import yaml

from . import registry

FORMAT_VERSION = 1
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ITEM_KINDS = ("lecture", "reading", "quiz", "assignment", "peer_review")
MAX_YAML_BYTES = 5 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# The loaded, validated pack: plain dataclasses, independent of the database.


@dataclasses.dataclass
class PaperData:
    title: str
    authors: str
    year: int | None = None
    url: str = ""


@dataclasses.dataclass
class ItemData:
    kind: str
    slug: str
    title: str
    preview: bool = False
    minutes: int = 0
    # lecture
    math: bool = False
    captions: list[dict] = dataclasses.field(default_factory=list)
    papers: list[PaperData] = dataclasses.field(default_factory=list)
    video: Path | None = None  # a recorded video file in the pack; None: rendered from the captions
    questions: list[dict] = dataclasses.field(default_factory=list)  # ungraded, [{at, kind, prompt, ...}]
    # reading
    body: str = ""
    body_file: str = ""
    # Kind-specific fields owned by other apps (quiz questions, assignment config): kept verbatim.
    extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class WeekData:
    number: int
    title: str
    summary: str = ""
    items: list[ItemData] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class CourseData:
    slug: str
    title: str
    order: int
    release_date: datetime.date | None = None
    short_description: str = ""
    description: str = ""
    level: str = ""
    estimated_hours: int | None = None
    weeks: list[WeekData] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class InterviewData:
    slug: str
    title: str
    guest: str
    order: int
    guest_title: str = ""
    bio: str = ""
    related_courses: list[str] = dataclasses.field(default_factory=list)
    captions: list[dict] = dataclasses.field(default_factory=list)
    video: Path | None = None


@dataclasses.dataclass
class PackData:
    root: Path
    slug: str
    title: str
    tagline: str = ""
    description: str = ""
    courses: list[CourseData] = dataclasses.field(default_factory=list)
    interviews: list[InterviewData] = dataclasses.field(default_factory=list)

    def item_count(self) -> int:
        return sum(len(week.items) for course in self.courses for week in course.weeks)


class PackError(Exception):
    """The pack is invalid. `errors` lists every problem as 'file:line: message'."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in the content pack:\n" + "\n".join(errors))


# ---------------------------------------------------------------------------------------------
# YAML with line numbers.


class _LineDict(dict):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineList(list):
    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    result = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


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
        if not path.is_file():
            self.error(path, 0, "file not found")
            return None
        if path.stat().st_size > MAX_YAML_BYTES:
            self.error(path, 0, f"file is larger than {MAX_YAML_BYTES // 1024 // 1024} MiB")
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            self.error(path, 0, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
            return None
        try:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 0
            problem = getattr(exc, "problem", None) or str(exc)
            self.error(path, line, f"invalid YAML: {problem}")
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
    def mapping(self, value, path: Path, line: int, what: str) -> _LineDict | None:
        if not isinstance(value, dict):
            self.error(path, getattr(value, "line", line), f"{what} must be a mapping")
            return None
        return value

    def check_keys(self, data: _LineDict, path: Path, allowed: set[str], required: set[str], what: str) -> None:
        for key in data:
            if key not in allowed:
                self.error(
                    path, data.line_of(key), f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})"
                )
        for key in sorted(required - set(data)):
            self.error(path, data.line, f"{what} is missing required key {key!r}")

    def string(self, data: _LineDict, key: str, path: Path, *, required=False, max_length=None, default="") -> str:
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

    def slug(self, data: _LineDict, key: str, path: Path) -> str:
        value = self.string(data, key, path, required=True, max_length=50)
        if value and not SLUG_RE.match(value):
            self.error(path, data.line_of(key), f"{key!r} {value!r} must be lowercase letters, digits and hyphens")
        return value

    def boolean(self, data: _LineDict, key: str, path: Path) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.error(path, data.line_of(key), f"{key!r} must be true or false")
            return False
        return value

    def integer(self, data: _LineDict, key: str, path: Path, *, default=None, minimum=0):
        value = data.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(path, data.line_of(key), f"{key!r} must be a whole number >= {minimum}")
            return default
        return value

    def date(self, data: _LineDict, key: str, path: Path) -> datetime.date | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        self.error(path, data.line_of(key), f"{key!r} must be a date like 2026-01-31")
        return None

    def captions(self, data: _LineDict, path: Path) -> list[dict]:
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

    def video(self, data: _LineDict, path: Path, base: Path) -> Path | None:
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


# ---------------------------------------------------------------------------------------------
# Loading.

PACK_KEYS = {"format", "specialization", "courses", "interviews"}
SPEC_KEYS = {"slug", "title", "tagline", "description"}
COURSE_KEYS = {"slug", "title", "release_date", "short_description", "description", "level", "estimated_hours", "weeks"}
WEEK_KEYS = {"title", "summary", "items"}
COMMON_ITEM_KEYS = {"kind", "slug", "title", "preview", "minutes"}
ITEM_KEYS = {
    "lecture": COMMON_ITEM_KEYS | {"math", "captions", "papers", "video", "questions"},
    "reading": COMMON_ITEM_KEYS | {"body"},
}
PAPER_KEYS = {"title", "authors", "year", "url"}
INTERVIEW_KEYS = {"slug", "title", "guest", "guest_title", "bio", "related_courses", "captions", "video"}


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
        item.extra = _plain(raw_extra)
        handler = registry.pack_handler_for(kind)
        if handler is not None:
            # The handler sees the values with their line numbers (mappings and lists keep a `line`
            # attribute), so an error may name the line of a nested value: (line: int, message).
            for problem in handler.validate(raw_extra, folder):
                key, message = problem if isinstance(problem, tuple) else (None, problem)
                line = key if isinstance(key, int) else data.line_of(key) if key else data.line
                reader.error(path, line, f"{kind} {item.slug!r}: {message}")
    return item


def _lecture_questions(reader: _Reader, data: _LineDict, path: Path, captions: list[dict]) -> list[dict]:
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
        body = _LineDict((key, value) for key, value in raw_question.items() if key != "at")
        body.line, body.key_lines = raw_question.line, raw_question.key_lines
        for problem in validator(body) if validator else []:
            where, message = problem if isinstance(problem, tuple) else (line, problem)
            reader.error(path, where, f"in-video question at {at} s: {message}")
        questions.append(_plain(raw_question))
    return questions


def _plain(value):
    """Strip the line-tracking subclasses so extras compare and serialise as ordinary data."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


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


# ---------------------------------------------------------------------------------------------
# Writing a pack back out (export).


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
                }
                entry = _without_defaults(entry, {"preview": False, "minutes": 0})
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
            weeks.append(
                _without_defaults({"title": week.title, "summary": week.summary, "items": items}, {"summary": ""})
            )
        course_yaml = {
            "slug": course.slug,
            "title": course.title,
            "release_date": course.release_date,
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
