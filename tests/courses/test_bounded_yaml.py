"""The bounded YAML loader: hostile documents are refused with their line before they grow; ordinary
documents, aliases included, load as before with the line of every key and item.

Every test runs on both parsers: libyaml's (what PyYAML wheels ship) and PyYAML's pure-Python one
(what a PyYAML built without libyaml falls back to)."""

import datetime

import pytest
import yaml

from courses.packs import bounded_yaml
from courses.packs.bounded_yaml import MAX_DEPTH, MAX_KEY_CHARS, MAX_NODES, LineDict, LineList, YamlError, loads

BILLION_LAUGHS = 'lol0: &l0 "lol"\n' + "".join(
    f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10)
)


@pytest.fixture(autouse=True, params=["libyaml", "python"])
def parser(request, monkeypatch):
    if request.param == "python":
        monkeypatch.setattr(bounded_yaml, "_Events", bounded_yaml._PyEvents)
        monkeypatch.setattr(bounded_yaml, "_Loader", bounded_yaml._PyLoader)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml")
    return request.param


def _refusal(text: str) -> YamlError:
    with pytest.raises(YamlError) as caught:
        loads(text)
    return caught.value


def test_billion_laughs_is_refused_at_the_first_alias_past_the_limit():
    error = _refusal(BILLION_LAUGHS)
    # lol0..lol4 stand for 12,345 values together; lol5's aliases of lol4 (11,111 each) cross 100,000.
    assert error.line == 6
    assert error.message == (
        f"alias *l4 repeats 11,111 values, which takes the file past {MAX_NODES:,} "
        "(an alias counts as every value it repeats)"
    )
    assert not error.syntax


def test_many_aliases_of_a_small_anchor_count_as_every_value_they_repeat():
    text = "row: &row [1, 2, 3, 4, 5, 6, 7, 8, 9]\nrows:\n" + "  - *row\n" * 10_001
    error = _refusal(text)
    # 14 values before the first alias (mapping, 2 keys, the row and its 9 items, the list), then 10 each:
    # the 9,999th alias, on line 2 + 9,999, is the first past 100,000.
    assert error.line == 2 + 9_999
    assert error.message.startswith("alias *row repeats 10 values")


def test_an_alias_inside_the_value_it_names_is_refused():
    error = _refusal("a: &loop\n  b: [1, *loop]\n")
    assert (error.line, error.message) == (2, "alias *loop is used inside the value it names")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("x: " + "[" * 1000 + "]" * 1000 + "\n", 1),  # flow
        ("".join(" " * depth + f"k{depth}:\n" for depth in range(200)) + " " * 200 + "v\n", MAX_DEPTH + 1),  # block
        ("top:\n" + "".join("  " * depth + "- \n" for depth in range(1, 100)), MAX_DEPTH + 1),
    ],
    ids=["flow", "block-mapping", "block-sequence"],
)
def test_a_deeply_nested_document_is_refused_where_it_passes_the_depth(text, line):
    error = _refusal(text)
    assert (error.line, error.message) == (line, f"nested more than {MAX_DEPTH} levels deep")


def test_nesting_up_to_the_depth_loads():
    data = loads("x: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n")
    for _ in range(MAX_DEPTH - 1):
        data = data[0] if isinstance(data, list) else data["x"]
    assert data == [1]


def test_a_huge_flow_sequence_is_refused_at_the_limit(parser, monkeypatch):
    if parser == "python":  # the same bound, at a tenth of the limit: the pure-Python parser is slow
        monkeypatch.setattr(bounded_yaml, "MAX_NODES", MAX_NODES // 10)
    error = _refusal("items: [" + ", ".join(["a"] * 1_000_000) + "]\n")
    assert (error.line, error.message) == (1, f"more than {bounded_yaml.MAX_NODES:,} values in one file")


def test_the_value_limit_counts_every_value_and_nothing_more(monkeypatch):
    monkeypatch.setattr(bounded_yaml, "MAX_NODES", 10)
    assert loads("[a, b, c, d, e, f, g, h, i]") == list("abcdefghi")  # the sequence and 9 items: 10
    assert "more than 10 values" in _refusal("[a, b, c, d, e, f, g, h, i, j]").message
    assert loads("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}  # 1 + 1 + 3 + 1 + 3 = 9
    assert "alias *x repeats 3 values" in _refusal("a: &x [1, 2]\nb: *x\nc: *x\n").message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("? " + "k" * 200_000 + "\n: value\n", 1),  # an explicit key has no length limit of its own in YAML
        ("names:\n  - &name " + "k" * (MAX_KEY_CHARS + 1) + "\nlookup: {*name : 1}\n", 3),
    ],
    ids=["explicit-key", "alias-as-key"],
)
def test_a_long_key_is_refused(text, line):
    error = _refusal(text)
    assert (error.line, error.message) == (line, f"a key longer than {MAX_KEY_CHARS:,} characters")


def test_a_long_simple_key_is_invalid_yaml_on_its_line():
    error = _refusal("ok: 1\n" + "k" * 2000 + ": value\n")
    assert error.syntax and error.line == 2


def test_long_values_are_fine():
    assert loads("k: " + "v" * 100_000 + "\n") == {"k": "v" * 100_000}


def test_text_over_the_size_limit_is_refused_before_parsing():
    error = _refusal("a: " + "b" * bounded_yaml.MAX_BYTES)
    assert (error.line, error.message) == (0, "larger than 5 MiB")


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(6 * 1024 * 1024)  # sparse: nothing is written, and nothing should be read
    with pytest.raises(YamlError, match="file is larger than 5 MiB"):
        bounded_yaml.load_file(path)
    with pytest.raises(YamlError, match="file not found"):
        bounded_yaml.load_file(tmp_path / "missing.yaml")
    path.write_bytes(b"title: \xff\n")
    with pytest.raises(YamlError, match="not UTF-8 text"):
        bounded_yaml.load_file(path)


def test_an_ordinary_document_with_aliases_and_merge_keys_loads_with_lines():
    text = (
        "defaults: &defaults\n"  # 1
        "  minutes: 5\n"  # 2
        "  preview: false\n"  # 3
        "papers: &papers\n"  # 4
        "  - {title: Deep learning, year: 2015}\n"  # 5
        "items:\n"  # 6
        "  - <<: *defaults\n"  # 7
        "    slug: one\n"  # 8
        "    papers: *papers\n"  # 9
        "  - <<: *defaults\n"  # 10
        "    slug: two\n"  # 11
        "    minutes: 9\n"  # 12
        "    papers: *papers\n"  # 13
        "released: 2026-01-31\n"  # 14
    )
    data = loads(text)
    assert bounded_yaml.plain(data) == {
        "defaults": {"minutes": 5, "preview": False},
        "papers": [{"title": "Deep learning", "year": 2015}],
        "items": [
            {"minutes": 5, "preview": False, "slug": "one", "papers": [{"title": "Deep learning", "year": 2015}]},
            {"minutes": 9, "preview": False, "slug": "two", "papers": [{"title": "Deep learning", "year": 2015}]},
        ],
        "released": datetime.date(2026, 1, 31),
    }
    assert isinstance(data, LineDict) and isinstance(data["items"], LineList)
    assert (data.line_of("items"), data.line_of("released"), data.line_of("missing")) == (6, 14, 1)
    items = data["items"]
    assert (items.line, items.line_of(0), items.line_of(1)) == (7, 7, 10)
    assert (items[1].line_of("slug"), items[1].line_of("minutes")) == (11, 12)
    assert type(bounded_yaml.plain(data)["items"][0]) is dict


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("title: [unclosed\n", 2, "invalid YAML: "),
        ("a: *nowhere\n", 1, "invalid YAML: found undefined alias *nowhere"),
        ("a: &x 1\nb: &x 2\n", 2, "invalid YAML: anchor &x is already defined on line 1"),
        ("a: 1\n---\nb: 2\n", 2, "invalid YAML: expected a single document in the stream (line 1), but found another"),
        ("? [a, b]\n: c\n", 1, "invalid YAML: found unhashable key"),
        ("when:\n  - 2026-13-01\n", 2, "invalid YAML: cannot read this value: month must be in 1..12"),
        ("n: " + "9" * 5000 + "\n", 1, "invalid YAML: cannot read this value: Exceeds the limit"),
        ("x: !!python/object:os.system {}\n", 1, "invalid YAML: could not determine a constructor"),
    ],
)
def test_invalid_yaml_names_its_line(text, line, message):
    error = _refusal(text)
    assert error.syntax
    assert error.line == line
    assert error.message.startswith(message)
