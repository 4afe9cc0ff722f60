import re

from django import template
from django.utils.safestring import mark_safe

from courses.rendering import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised by bleach in render_markdown


@register.filter
def markdown_section(text: str) -> str:
    """Markdown inside a page that has its own h1: its headings start at h2."""
    return mark_safe(render_markdown(text or "", heading_offset=1))  # noqa: S308 - sanitised in render_markdown


_FIRST_H1 = re.compile(r"\A\s*#[ \t]+(.+?)[ \t#]*(?:\n|\Z)")


def _normalise(title: str) -> str:
    return " ".join(title.split()).casefold()


@register.filter
def markdown_body(text: str, title: str = "") -> str:
    """Markdown under a page's own h1 (a reading): a first heading that repeats the page title is
    dropped, and any other h1 in it becomes h2, so the page has one h1."""
    body = text or ""
    match = _FIRST_H1.match(body)
    if match and _normalise(match.group(1)) == _normalise(title or ""):
        body = body[match.end() :].lstrip("\n")
    html = render_markdown(body)
    if "<h1" in html:
        html = render_markdown(body, heading_offset=1)
    return mark_safe(html)  # noqa: S308 - sanitised in render_markdown


@register.filter
def duration(seconds) -> str:
    seconds = round(float(seconds or 0))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}"


@register.filter
def without_optional(title: str) -> str:
    """An optional math lecture's title without its "(optional)": the badge beside it says so, once."""
    text = str(title)
    return text[: -len(" (optional)")] if text.lower().endswith(" (optional)") else text
