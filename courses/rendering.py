"""Markdown for course text: sanitised HTML, highlighted code, and LaTeX math rendered to MathML on
the server (no JavaScript, readable by screen readers)."""

from __future__ import annotations

import re
import secrets

import bleach
import markdown as md
from latex2mathml.converter import convert as latex_to_mathml

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "img": ["src", "alt", "title"],
    "span": ["class"],
    "div": ["class"],
    "code": ["class"],
    "th": ["align"],
    "td": ["align"],
}

# $$display$$ first, then $inline$ (not preceded by a backslash, not spanning blank lines).
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)")
FENCED_CODE = re.compile(r"(```.*?```|`[^`\n]+`)", re.DOTALL)


def _math(latex: str, display: bool) -> str:
    try:
        return latex_to_mathml(latex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - bad LaTeX shows as code rather than breaking the page
        return f"<code>{bleach.clean(latex)}</code>"


HEADING = re.compile(r"<(/?)h([1-6])>")


def demote_headings(html: str, by: int) -> str:
    """Shift headings down (h1 → h1+by), for Markdown shown inside a page that has its own h1."""
    return HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + by)}>", html) if by else html


def render_markdown(text: str, *, heading_offset: int = 0) -> str:
    placeholders: dict[str, str] = {}
    token = secrets.token_hex(4)

    def stash(html: str) -> str:
        key = f"MATH{token}X{len(placeholders)}X"
        placeholders[key] = html
        return key

    # Math is replaced by placeholders outside code, so Markdown never sees LaTeX underscores.
    parts = FENCED_CODE.split(text)
    for index in range(0, len(parts), 2):
        part = DISPLAY_MATH.sub(lambda m: "\n\n" + stash(_math(m.group(1), True)) + "\n\n", parts[index])
        parts[index] = INLINE_MATH.sub(lambda m: stash(_math(m.group(1), False)), part)
    html = md.markdown(
        "".join(parts),
        extensions=["fenced_code", "codehilite", "tables", "sane_lists"],
        extension_configs={"codehilite": {"guess_lang": False, "css_class": "highlight"}},
    )
    html = bleach.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols={"http", "https", "mailto"})
    for key, value in placeholders.items():
        html = html.replace(f"<p>{key}</p>", value).replace(key, value)
    return demote_headings(focusable_code(html), heading_offset)


def focusable_code(html: str) -> str:
    """Code blocks scroll sideways rather than widen the page: keyboard users must be able to reach
    them to scroll (WCAG 2.1.1), so each one is a tab stop."""
    return html.replace("<pre>", '<pre tabindex="0">')
