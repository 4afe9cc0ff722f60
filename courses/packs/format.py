"""The content-pack format: what a loaded pack is (plain dataclasses, independent of the database),
which keys each part of the YAML may use, and the error that lists every problem.

`load.py` reads a folder into these, `write.py` writes them back, `apply.py` puts them in the database.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from pathlib import Path

FORMAT_VERSION = 1
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ITEM_KINDS = ("lecture", "reading", "quiz", "assignment", "peer_review")
GRADED_KINDS = ("quiz", "assignment", "peer_review")

PACK_KEYS = {"format", "specialization", "courses", "interviews"}
SPEC_KEYS = {"slug", "title", "tagline", "description"}
COURSE_KEYS = {
    "slug", "title", "release_date", "completion", "short_description", "description", "level", "estimated_hours",
    "weeks",
}  # fmt: skip
# `completion:` in course.yaml: graded (every graded item passed, the default) or all (every item completed).
COMPLETION_RULES = ("graded", "all")
# A week or an item opens with its course unless it says `release_date: 2027-01-18` (absolute) or
# `release_after_days: 14` (days after the learner's schedule start), never both. Graded items may say
# `due_after_days: 3`: their suggested deadline, in days after their week opens (1-7; default: the week's).
RELEASE_KEYS = {"release_date", "release_after_days"}
WEEK_KEYS = {"title", "summary", "items"} | RELEASE_KEYS
COMMON_ITEM_KEYS = {"kind", "slug", "title", "preview", "minutes", "due_after_days"} | RELEASE_KEYS
ITEM_KEYS = {
    "lecture": COMMON_ITEM_KEYS | {"math", "captions", "papers", "video", "questions"},
    "reading": COMMON_ITEM_KEYS | {"body"},
}
PAPER_KEYS = {"title", "authors", "year", "url"}
INTERVIEW_KEYS = {"slug", "title", "guest", "guest_title", "bio", "related_courses", "captions", "video"}


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
    release_date: datetime.date | None = None
    release_after_days: int | None = None
    due_after_days: int | None = None
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
    release_date: datetime.date | None = None
    release_after_days: int | None = None
    items: list[ItemData] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class CourseData:
    slug: str
    title: str
    order: int
    release_date: datetime.date | None = None
    completion: str = "graded"
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
