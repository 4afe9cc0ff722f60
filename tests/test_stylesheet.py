"""The site's stylesheet must not restyle the class names Pygments gives highlighted code."""

import re
from pathlib import Path

from pygments.token import STANDARD_TYPES

SITE_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "site.css"


def test_site_css_leaves_pygments_token_classes_alone():
    # Pygments marks tokens with short classes (`nb` for a builtin, `k` for a keyword...). A site rule for
    # `.nb` once turned every `print` in a code block into a grid of its own line.
    token_classes = {name for name in STANDARD_TYPES.values() if name}
    css = re.sub(r"/\*.*?\*/", "", SITE_CSS.read_text(), flags=re.S)
    clashes = set()
    for selectors in re.findall(r"([^{}]+)\{[^{}]*\}", css):
        for selector in selectors.split(","):
            if ".highlight" in selector:
                continue  # scoped to highlighted code on purpose
            clashes |= set(re.findall(r"\.([A-Za-z][\w-]*)", selector)) & token_classes
    assert not clashes, f"site.css styles Pygments token classes: {sorted(clashes)}"
