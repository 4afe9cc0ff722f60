"""Forum posts from Markdown to HTML: the course text renderer (fenced code highlighted with Pygments on
the server, LaTeX math as MathML), then nh3 over the result as the one sanitiser that decides what a
learner's HTML may contain. Links get rel="nofollow ugc"; raw HTML is shown as text; images are not
allowed (a post links to a picture instead: no tracking pixels in the forums).

The result is stored beside the source (Post.body_html) so a page never renders Markdown.
"""

from __future__ import annotations

import html
import re

import nh3

from courses import api as courses

MAX_BODY_CHARS = 20_000

_HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
# What latex2mathml writes (courses.rendering turns $...$ and $$...$$ into MathML).
_MATHML_TAGS = {
    "math", "menclose", "merror", "mfenced", "mfrac", "mi", "mmultiscripts", "mn", "mo", "mover", "mpadded",
    "mphantom", "mprescripts", "mroot", "mrow", "ms", "mspace", "msqrt", "mstyle", "msub", "msubsup", "msup",
    "mtable", "mtd", "mtext", "mtr", "munder", "munderover", "none", "semantics", "annotation",
}  # fmt: skip
_MATHML_ATTRIBUTES = {
    "accent", "accentunder", "close", "columnalign", "columnlines", "columnspacing", "depth", "display",
    "displaystyle", "encoding", "fence", "form", "frame", "height", "largeop", "linethickness", "lspace",
    "mathvariant", "maxsize", "minsize", "movablelimits", "notation", "open", "rowlines", "rowspacing", "rspace",
    "scriptlevel", "separator", "separators", "stretchy", "symmetric", "width", "xmlns",
}  # fmt: skip

ALLOWED_TAGS = _HTML_TAGS | _MATHML_TAGS
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    **dict.fromkeys(_MATHML_TAGS, _MATHML_ATTRIBUTES),
}
URL_SCHEMES = {"http", "https", "mailto"}

# @handle, not inside a word, an e-mail address or a URL path.
MENTION = re.compile(r"(?<![\w@/.+-])@([a-z0-9][a-z0-9_-]{1,38}[a-z0-9])", re.IGNORECASE)
_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]+`", re.DOTALL)
_TAG = re.compile(r"(<[^>]*>)")
_NO_MENTION_INSIDE = {"a", "code", "pre", "math"}


def sanitise(html_text: str) -> str:
    return nh3.clean(
        html_text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc",
        strip_comments=True,
        # A code block scrolls sideways rather than widen the page, so it is a tab stop (WCAG 2.1.1).
        set_tag_attribute_values={"pre": {"tabindex": "0"}},
    )


def mentioned_handles(body: str) -> set[str]:
    """The @handles a post names outside its code (lower case)."""
    return {match.group(1).lower() for match in MENTION.finditer(_CODE.sub(" ", body or ""))}


def render(body: str, *, handles: set[str] | frozenset[str] = frozenset()) -> str:
    """Sanitised HTML for a post. `handles` are the mentioned handles that belong to real members: those
    are marked up as mentions (outside code, links and math); any other @word stays plain text."""
    result = sanitise(courses.render_markdown(body or "", heading_offset=2))
    if handles:
        result = _mark_mentions(result, {handle.lower() for handle in handles})
    return result


def _mark_mentions(html_text: str, handles: set[str]) -> str:
    parts = _TAG.split(html_text)
    inside: list[str] = []
    for index, part in enumerate(parts):
        if index % 2 == 1:  # a tag
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", part)
            if name and name.group(1).lower() in _NO_MENTION_INSIDE and not part.endswith("/>"):
                if part.startswith("</"):
                    if inside:
                        inside.pop()
                else:
                    inside.append(name.group(1).lower())
            continue
        if inside or "@" not in part:
            continue
        parts[index] = MENTION.sub(
            lambda m: f'<span class="mention">@{m.group(1)}</span>' if m.group(1).lower() in handles else m.group(0),
            part,
        )
    return "".join(parts)


def plain_text(body: str, *, limit: int = 300) -> str:
    """A one-paragraph preview of a post for e-mails and lists: code and markup dropped, whitespace folded."""
    text = _CODE.sub(" [code] ", body or "")
    text = re.sub(r"[#>*_~`]+", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def escape(text: str) -> str:
    return html.escape(text, quote=True)
