"""Hostile YAML benchmark: how fast a hostile content pack is refused, against loading the ordinary
demo pack in the same run.

    .venv/bin/python bench/hostile_yaml.py [--repeat N]      (or: make bench)

Each hostile pack is a copy of content/demo with one file made hostile: a billion laughs inside a quiz
item (before the bounded loader: MemoryError after ~30 s under a 2 GiB cap) and in pack.yaml, a line
nested 100,000 levels deep, a flow sequence of 1.5 million items, a 3-million-character key. The
baseline is load_pack on the unchanged demo pack (5 courses, 84 items, every file validated). The
loader alone is timed too, on libyaml's parser and on PyYAML's pure-Python fallback. Needs no
database or server; writes only to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from courses.packs import PackError, bounded_yaml, load_pack  # noqa: E402

DEMO = ROOT / "content" / "demo"
COURSE = "courses/neural-networks-and-deep-learning/course.yaml"
BOMB = ['x-lol0: &l0 "lol"'] + [f"x-lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]


def _insert_after(path: Path, marker: str, lines: list[str], indent: int) -> None:
    text = path.read_text().splitlines(keepends=True)
    at = next(n for n, line in enumerate(text, start=1) if line.strip() == marker)
    text[at:at] = [" " * indent + line + "\n" for line in lines]
    path.write_text("".join(text))


HOSTILE = {
    "billion laughs in a quiz item": lambda pack: _insert_after(pack / COURSE, "- kind: quiz", BOMB, 8),
    "billion laughs in pack.yaml": lambda pack: _insert_after(pack / "pack.yaml", "format: 1", BOMB, 0),
    "100,000 levels of nesting": lambda pack: _insert_after(
        pack / COURSE, "estimated_hours: 24", ["x-deep: " + "[" * 100_000 + "]" * 100_000], 0
    ),
    "flow sequence of 1.5M items": lambda pack: _insert_after(
        pack / COURSE, "estimated_hours: 24", ["x-many: [" + ", ".join(["a"] * 1_500_000) + "]"], 0
    ),
    "key of 3M characters": lambda pack: _insert_after(
        pack / COURSE, "estimated_hours: 24", ["? " + "k" * 3_000_000, ": v"], 0
    ),
}


def _timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _refusal(pack: Path):
    try:
        load_pack(pack)
    except PackError as exc:
        return exc.errors
    raise SystemExit(f"{pack} was not refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per case; the median is printed")
    args = parser.parse_args()

    baseline, _ = _timed(lambda: load_pack(DEMO), args.repeat)
    print(f"baseline: load_pack(content/demo), valid: {baseline * 1000:.0f} ms (median of {args.repeat})")
    print(f"{'hostile pack':32} {'refused in':>11} {'vs baseline':>12}  error")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in HOSTILE.items():
            pack = Path(tmp) / name.replace(" ", "-")
            shutil.copytree(DEMO, pack)
            make(pack)
            seconds, errors = _timed(lambda pack=pack: _refusal(pack), args.repeat)
            print(f"{name:32} {seconds * 1000:>8.0f} ms {seconds / baseline:>11.2f}x  {errors[0][:110]}")

    documents = {
        "billion laughs": 'l0: &l0 "lol"\n'
        + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10)),
        "flow sequence of 1.5M items": "[" + ", ".join(["a"] * 1_500_000) + "]",
        "14,000 caption cues (98,000 values, valid)": "".join(
            f"- {{start: {i}, end: {i + 1}, text: cue number {i}}}\n" for i in range(14_000)
        ),
    }
    parsers = {"libyaml": (bounded_yaml._Events, bounded_yaml._Loader)}
    parsers["pure Python"] = (bounded_yaml._PyEvents, bounded_yaml._PyLoader)
    print("\nthe loader alone (bounded_yaml.loads):")
    for parser_name, (events, loader) in parsers.items():
        bounded_yaml._Events, bounded_yaml._Loader = events, loader
        for name, text in documents.items():

            def load(text=text):
                try:
                    bounded_yaml.loads(text)
                    return "loaded"
                except bounded_yaml.YamlError as exc:
                    return f"refused, line {exc.line}"

            seconds, outcome = _timed(load, 1 if parser_name == "pure Python" else args.repeat)
            print(f"  {parser_name:12} {name:44} {seconds * 1000:>8.0f} ms  {outcome}")


if __name__ == "__main__":
    main()
