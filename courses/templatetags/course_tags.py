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


@register.filter
def duration(seconds) -> str:
    seconds = round(float(seconds or 0))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}"
