"""Building a learner's course archive: a zip they keep after the course (and their subscription) ends.

    <course>/README.txt                          what is inside, for whom, from where, when
    <course>/index.html                          the table of contents, readable offline
    <course>/week-01-<title>/01-<item>.md|.html  readings, as written and as shown on the site
    <course>/week-01-<title>/02-<item>.txt|.vtt  lecture transcripts and captions
    <course>/week-01-<title>/03-<item>/          an assignment: instructions, the starter notebook,
                                                 each of the learner's attempts and its feedback

Everything is rendered on the server and self-contained (no link leaves the archive but the site's own
address); math is MathML, so it shows without a network.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from courses import api as courses
from grading import api as grading

STYLE = """body{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#17212b}
pre{background:#f4f6f9;padding:.8rem;overflow-x:auto;border-radius:6px}code{font-size:.92em}
h1,h2,h3{line-height:1.25}.muted{color:#56626f}table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:.3rem}
.passed{color:#1d6b3a}.failed{color:#a3271b}"""


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "item"


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _timestamp(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _feedback_markdown(item_title: str, record: grading.LearnerSubmission) -> str:
    lines = [f"# {item_title}: attempt {record.attempt}", ""]
    lines.append(f"Submitted {record.submitted_at:%d %B %Y, %H:%M} UTC · status: {record.status}")
    if record.score is not None:
        lines.append(f"Score: {record.score:g} / {record.max_score:g}")
    lines += ["", "## Tests", ""]
    for test in record.tests:
        mark = {"passed": "✓", "manual": "…"}.get(test.status, "✗")
        lines.append(f"- {mark} **{test.name}** ({test.points:g} / {test.max_points:g} points)")
        if test.message and test.status != "passed":
            lines.append(f"  {test.message}")
    if record.outputs:
        lines += ["", "## Your cells' output", ""]
        for number, text in record.outputs:
            lines += [f"Cell {number}:", "", "```", text.rstrip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


class Builder:
    """Writes the archive of one course for one learner, reporting progress item by item."""

    def __init__(self, *, course_id: int, learner, site_url: str, progress: Callable[[int, int], None]):
        self.material = courses.course_material(course_id=course_id)
        self.learner = learner
        self.site_url = site_url.rstrip("/")
        self.progress = progress
        self.root = slugify(self.material.slug)
        self.toc: list[str] = []

    @property
    def steps(self) -> int:
        return sum(len(week.items) for week in self.material.weeks) + 1

    def build(self, path: Path, *, now: datetime.datetime) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        done = 0
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for week in self.material.weeks:
                folder = f"{self.root}/week-{week.number:02d}-{slugify(week.title)}"
                self.toc.append(f"<h2>Week {week.number}: {html.escape(week.title)}</h2><ul>")
                for position, item in enumerate(week.items, start=1):
                    self._item(zf, folder, position, item)
                    done += 1
                    self.progress(done, self.steps)
                self.toc.append("</ul>")
            self._front_matter(zf, now=now)
        self.progress(self.steps, self.steps)

    def _write(self, zf: zipfile.ZipFile, name: str, text: str) -> None:
        zf.writestr(name, text.encode("utf-8"))

    def _entry(self, relative: str, title: str, note: str = "") -> None:
        suffix = f' <span class="muted">{html.escape(note)}</span>' if note else ""
        self.toc.append(f'<li><a href="{html.escape(relative)}">{html.escape(title)}</a>{suffix}</li>')

    def _item(self, zf: zipfile.ZipFile, folder: str, position: int, item) -> None:
        base = f"{folder}/{position:02d}-{slugify(item.slug)}"
        relative = base.removeprefix(f"{self.root}/")
        if item.kind == "reading":
            self._write(zf, f"{base}.md", item.reading)
            body = f"<h1>{html.escape(item.title)}</h1>{courses.render_markdown(item.reading, heading_offset=1)}"
            self._write(zf, f"{base}.html", _page(item.title, body))
            self._entry(f"{relative}.html", item.title, "reading")
        elif item.kind == "lecture" and item.captions:
            transcript = "\n".join(f"[{_timestamp(cue['start'])}] {cue['text']}" for cue in item.captions)
            self._write(zf, f"{base}.txt", f"{item.title}\n\n{transcript}\n")
            self._write(zf, f"{base}.vtt", courses.captions_to_vtt(list(item.captions)))
            self._entry(f"{relative}.txt", item.title, "lecture transcript (captions: .vtt beside it)")
        elif item.kind == "assignment":
            self._assignment(zf, base, relative, item)

    def _assignment(self, zf: zipfile.ZipFile, base: str, relative: str, item) -> None:
        starter = grading.assignment_starter(item_id=item.item_id)
        if starter is not None:
            notebook, instructions = starter
            self._write(zf, f"{base}/starter.ipynb", json.dumps(notebook, indent=1, ensure_ascii=False))
            if instructions:
                self._write(zf, f"{base}/instructions.md", instructions)
        submissions = grading.learner_submissions(learner_id=self.learner.pk, item_id=item.item_id)
        for record in submissions:
            name = f"{base}/my-attempt-{record.attempt}"
            if record.notebook:
                self._write(zf, f"{name}.ipynb", json.dumps(record.notebook, indent=1, ensure_ascii=False))
            feedback = _feedback_markdown(item.title, record)
            self._write(zf, f"{name}-feedback.md", feedback)
            self._write(zf, f"{name}-feedback.html", _page(item.title, courses.render_markdown(feedback)))
        if starter is not None or submissions:
            attempts = f"{len(submissions)} of your attempts with feedback" if submissions else "no attempt of yours"
            self._entry(f"{relative}/", item.title, f"programming assignment: starter notebook, {attempts}")

    def _front_matter(self, zf: zipfile.ZipFile, *, now: datetime.datetime) -> None:
        name = getattr(self.learner, "name", "") or self.learner.email
        made = f"{now:%d %B %Y}"
        title = f"{self.material.title} · {self.material.specialization_title}"
        spec = html.escape(self.material.specialization_title)
        intro = (
            f"<h1>{html.escape(self.material.title)}</h1><p class='muted'>{spec}"
            f" · kept by {html.escape(name)} on {made} · <a href='{html.escape(self.site_url)}'>"
            f"{html.escape(self.site_url)}</a></p>"
        )
        self._write(zf, f"{self.root}/index.html", _page(title, intro + "".join(self.toc)))
        readme = (
            f"{self.material.title}\n{self.material.specialization_title}\n\n"
            f"Kept by {name} on {made} from {self.site_url}.\n\n"
            "Open index.html in a browser for the table of contents. Inside, week by week:\n"
            "- readings, as Markdown (.md) and as on the site (.html);\n"
            "- lecture transcripts (.txt) and captions (.vtt, for any video player);\n"
            "- programming assignments: the instructions, the starter notebook, and each of your attempts\n"
            "  with the feedback you were given (open the .ipynb files in Jupyter).\n"
        )
        self._write(zf, f"{self.root}/README.txt", readme)
