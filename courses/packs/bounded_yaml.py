"""Bounded YAML: how the project reads every YAML document it did not write itself (content packs,
assignment manifests, the YAML in Otter notebook cells).

PyYAML's safe loader still believes what a document says about its own size: ten nested aliases (a
"billion laughs") describe 10**9 values in a few hundred bytes, and anything that walks the result
(validation, a copy, an error message) expands them; a few thousand "[" exhaust the recursion limit;
a flat sequence of millions of one-letter items costs seconds and gigabytes. So this module first
reads the document's parser events alone (no nodes, no values; libyaml's parser when PyYAML has it)
and refuses, naming the line, at the first event past a bound; only then is it composed and built:

- text longer than MAX_BYTES (5 MiB);
- collections nested more than MAX_DEPTH (64) levels deep;
- more than MAX_NODES (100,000) values, where an alias counts as every value of the node it repeats,
  so a document never costs more than it would written out in full; each anchor's count is known
  when its node closes, so an alias bomb is refused at its first oversized alias without ever being
  expanded;
- an alias used inside the node it names (a recursive document);
- a mapping key longer than MAX_KEY_CHARS (1,024, YAML's own limit for implicit keys).

Mappings and sequences come back as LineDict / LineList, which remember their lines (1-based) for
error messages; `plain()` turns them back into ordinary dicts and lists.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver, Resolver
from yaml.scanner import Scanner

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
MAX_KEY_CHARS = 1024


class YamlError(Exception):
    """The text is not YAML we accept. `line` is 1-based; 0 means the file as a whole. `problem` is the
    reason alone; the message (str) adds "invalid YAML: " when the text is not YAML at all."""

    def __init__(self, problem: str, line: int = 0, *, syntax: bool = False):
        self.problem = problem
        self.line = line
        self.syntax = syntax
        self.message = f"invalid YAML: {problem}" if syntax else problem
        super().__init__(self.message)


class LineDict(dict):
    """A mapping that remembers its own line and the line of each key."""

    line: int = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_lines: dict = {}

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence that remembers its own line and the line of each item."""

    line: int = 0

    def __init__(self, *args):
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def plain(value):
    """The same data with ordinary dicts and lists (for storing, comparing and serialising)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


class _Refused(yaml.MarkedYAMLError):
    """A bound was crossed at problem_mark."""


def _refused(problem: str, event) -> _Refused:
    return _Refused(problem=problem, problem_mark=event.start_mark)


def _define(event, lines: dict[str, int]) -> None:
    if event.anchor in lines:
        raise ComposerError(
            None, None, f"anchor &{event.anchor} is already defined on line {lines[event.anchor]}", event.start_mark
        )
    lines[event.anchor] = event.start_mark.line + 1


def _check_bounds(parser) -> None:
    """Read the document's events (no nodes, no values) and refuse it at the first event that crosses
    a bound. An anchor's size is known when its node closes, so an alias costs one dictionary lookup
    however much it repeats; an alias to a node still open is the recursive case."""
    values = 0  # so far, an alias counted as every value it repeats
    sizes: dict[str, int] = {}  # anchor -> values of its (closed) node
    lengths: dict[str, int] = {}  # anchor of a scalar -> its length (an alias may be a key)
    lines: dict[str, int] = {}  # anchor -> the line that defines it
    opened: set[str] = set()  # anchors of collections still open
    stack: list[list] = []  # per open collection: [anchor, values before it, is a mapping, children so far]
    top = None
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is ScalarEvent or kind is AliasEvent:
            is_key = top is not None and top[2] and top[3] % 2 == 0  # a mapping's children alternate key, value
            if kind is ScalarEvent:
                size, length = 1, len(event.value)
                if event.anchor is not None:
                    _define(event, lines)
                    sizes[event.anchor] = 1
                    lengths[event.anchor] = length
            else:
                if event.anchor in opened:
                    raise _refused(f"alias *{event.anchor} is used inside the value it names", event)
                if event.anchor not in sizes:
                    raise ComposerError(None, None, f"found undefined alias *{event.anchor}", event.start_mark)
                size, length = sizes[event.anchor], lengths.get(event.anchor, 0)
            if is_key and length > MAX_KEY_CHARS:
                raise _refused(f"a key longer than {MAX_KEY_CHARS:,} characters", event)
            values += size
            if values > MAX_NODES:
                if kind is AliasEvent:
                    raise _refused(
                        f"alias *{event.anchor} repeats {size:,} values, which takes the file past "
                        f"{MAX_NODES:,} (an alias counts as every value it repeats)",
                        event,
                    )
                raise _refused(f"more than {MAX_NODES:,} values in one file", event)
            if top is not None:
                top[3] += 1
        elif kind is SequenceStartEvent or kind is MappingStartEvent:
            if len(stack) >= MAX_DEPTH:
                raise _refused(f"nested more than {MAX_DEPTH} levels deep", event)
            values += 1
            if values > MAX_NODES:
                raise _refused(f"more than {MAX_NODES:,} values in one file", event)
            if event.anchor is not None:
                _define(event, lines)
                opened.add(event.anchor)
            top = [event.anchor, values - 1, kind is MappingStartEvent, 0]
            stack.append(top)
        elif kind is SequenceEndEvent or kind is MappingEndEvent:
            anchor, before, _, _ = stack.pop()
            if anchor is not None:
                sizes[anchor] = values - before
                opened.discard(anchor)
            top = stack[-1] if stack else None
            if top is not None:
                top[3] += 1
        elif kind is DocumentEndEvent or kind is StreamEndEvent:
            return  # a second document is the composer's error ("expected a single document")


class _LineConstructor(SafeConstructor):
    def construct_object(self, node, deep=False):
        # PyYAML's constructors let Python's own errors through ("2024-13-01": month must be in 1..12; an
        # integer of 5,000 digits); they become YAML errors at the value's line.
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            raise ConstructorError(None, None, f"cannot read this value: {exc}", node.start_mark) from exc

    def construct_line_mapping(self, node: MappingNode) -> LineDict:
        self.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_line_sequence(self, node) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_LineConstructor.add_constructor(BaseResolver.DEFAULT_MAPPING_TAG, _LineConstructor.construct_line_mapping)
_LineConstructor.add_constructor(BaseResolver.DEFAULT_SEQUENCE_TAG, _LineConstructor.construct_line_sequence)


class _PyEvents(Reader, Scanner, Parser):
    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


class _PyLoader(Reader, Scanner, Parser, Composer, _LineConstructor, Resolver):
    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _LineConstructor.__init__(self)
        Resolver.__init__(self)


# libyaml's parser and composer when PyYAML was built with it (five times faster), else PyYAML's own.
_Events: type = _PyEvents
_Loader: type = _PyLoader
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _CLoader(CParser, _LineConstructor, Resolver):
        def __init__(self, text: str):
            CParser.__init__(self, text)
            _LineConstructor.__init__(self)
            Resolver.__init__(self)

    _Events, _Loader = CParser, _CLoader


def loads(text: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """Parse one YAML document within the bounds above. Raises YamlError with the line."""
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        raise YamlError(f"larger than {_size(max_bytes)}")
    loader = None
    try:
        events = _Events(text)
        try:
            _check_bounds(events)  # first, so nothing is composed from a document that is refused
        finally:
            events.dispose()
        loader = _Loader(text)
        return loader.get_single_data()
    except _Refused as exc:
        raise YamlError(exc.problem, exc.problem_mark.line + 1) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if isinstance(exc, ComposerError) and exc.context:  # "found duplicate anchor 'a'; first occurrence"
            problem = f"{exc.context} (line {exc.context_mark.line + 1}), {problem}"
        raise YamlError(problem, mark.line + 1 if mark else 0, syntax=True) from exc
    finally:
        if loader is not None:
            loader.dispose()


def load_file(path: Path, *, max_bytes: int = MAX_BYTES) -> Any:
    """Read and parse a YAML file within the bounds. Raises YamlError (line 0: about the whole file)."""
    if not path.is_file():
        raise YamlError("file not found")
    with path.open("rb") as handle:
        raw = handle.read(max_bytes + 1)  # never more than the bound, however large the file has grown
    if len(raw) > max_bytes:
        raise YamlError(f"file is larger than {_size(max_bytes)}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return loads(text, max_bytes=max_bytes)


def _size(limit: int) -> str:
    return f"{limit // 1024 // 1024} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"
