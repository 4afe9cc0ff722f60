"""Posts are Markdown with highlighted code and math, sanitised by nh3: nothing a learner types can run
script in another learner's browser."""

import pytest

from forums import rendering


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<iframe src="https://evil.example"></iframe>',
        '<div style="position:fixed;top:0">overlay</div>',
        "<svg onload=alert(1)>",
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
        "$x$<script>alert(1)</script>",
        "```\n</code></pre><script>alert(1)</script>\n```",
        '<pre tabindex="-1" autofocus>x</pre>',
    ],
)
def test_script_never_survives(body):
    elements = _elements(rendering.render(body))
    names = {name for name, _ in elements}
    assert not names & {"script", "iframe", "svg", "img", "object", "embed", "style"}
    for _name, attrs in elements:
        for attr, value in attrs:
            assert not attr.startswith("on") and attr not in {"style", "xlink:href", "src"}
            assert attr != "tabindex" or value == "0"
            assert not (value or "").lower().strip().startswith(("javascript:", "data:"))


def _elements(html):
    """Every element the browser would build from the HTML: (tag, attributes)."""
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_raw_html_outside_the_allowed_tags_is_shown_as_text():
    html = rendering.render('Use <b>bold</b>, <marquee>this</marquee> and <form action="/x"><input></form>')
    assert "<b>bold</b>" in html  # harmless formatting stays
    assert "&lt;marquee&gt;this&lt;/marquee&gt;" in html
    assert "<form" not in html and "<input" not in html


def test_links_are_nofollow_ugc():
    html = rendering.render("See [the docs](https://numpy.org/doc/) and https://example.com")
    assert '<a href="https://numpy.org/doc/" rel="nofollow ugc">the docs</a>' in html


def test_fenced_code_is_highlighted_on_the_server():
    html = rendering.render("```python\nimport numpy as np\nA = np.dot(w.T, X)\n```")
    assert '<div class="highlight">' in html
    assert '<span class="kn">import</span>' in html
    assert '<pre tabindex="0">' in html  # keyboard users can scroll it


def test_latex_math_becomes_mathml():
    html = rendering.render(r"The update is $w := w - \alpha \frac{\partial J}{\partial w}$ and $$\sum_i x_i$$")
    assert html.count("<math") == 2 and "<mfrac>" in html
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow><munder><mo>∑</mo>' in html


def test_images_are_not_embedded():
    assert "<img" not in rendering.render("![plot](https://example.com/plot.png)")


def test_mentions_are_marked_only_for_members_and_never_in_code():
    body = "Thanks @ada-l! cc @nobody. Not `@ada-l` in code, nor mail@ada-l.org"
    assert rendering.mentioned_handles(body) == {"ada-l", "nobody"}
    html = rendering.render(body, handles={"ada-l"})
    assert html.count('<span class="mention">@ada-l</span>') == 1
    assert "<code>@ada-l</code>" in html
    assert '<span class="mention">@nobody' not in html


def test_plain_text_preview_drops_code_and_markup():
    text = rendering.plain_text("## Help\n\n**My** cost:\n\n```python\nx = 1\n```\n\n[docs](https://x.org)", limit=80)
    assert text == "Help My cost: [code] docs"
