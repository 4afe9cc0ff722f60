"""Checks every browser test can run on a page: no horizontal overflow, and no serious or critical
accessibility finding from axe-core (pinned in package.json, installed by `make node-deps`)."""

from __future__ import annotations

import time
from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def horizontal_overflow(page) -> list[str]:
    """Elements wider than the viewport (the page scrolls sideways on a phone), as short descriptions."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return [];
          const out = [];
          for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.width === 0 || getComputedStyle(el).position === 'fixed') continue;
            // Inside a box that scrolls on its own (a code block, a wide table): that box is the fix, not the page.
            let scrolled = false;
            for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
              const o = getComputedStyle(p).overflowX;
              if (o === 'auto' || o === 'scroll' || o === 'hidden') { scrolled = true; break; }
            }
            if (!scrolled && box.right > width + 1) {
              const cls = el.className ? '.' + String(el.className).split(' ').join('.') : '';
              const name = el.tagName.toLowerCase() + cls;
              out.push(`${name} (right edge ${Math.round(box.right)} px)`);
            }
          }
          return out.slice(0, 8);
        }"""
    )


def axe_findings(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each with where they are."""
    if not AXE.is_file():
        raise AssertionError("axe-core is missing: run `make node-deps` (npm ci).")
    # Evaluated rather than added as a <script> element: the site's content security policy refuses inline
    # scripts, and page.evaluate is not subject to it.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text() + "\n;true")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
            lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}")
    return lines


def wait_until(page, expression: str, timeout: float = 15_000) -> None:
    """page.wait_for_function without eval in the page: Playwright runs that predicate through eval(), which the
    site's content security policy refuses ('unsafe-eval' is not allowed); page.evaluate is not subject to it."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout / 1000:.0f} s waiting for {expression}")
        page.wait_for_timeout(100)
