"""The host-side decoder must survive anything a (possibly tampered) kernel sends. No engine needed."""

import io
import json
import math
import time

import numpy as np
import pytest

from grading.sandbox.transfer import (
    DataFrameData,
    TransferError,
    decode_value,
    encode_args,
    load_npy,
)


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def decode(value_json, blobs=(), max_depth=64, max_bytes=1_000_000):
    return decode_value(value_json, list(blobs), max_depth=max_depth, max_bytes=max_bytes)


def test_plain_values_round_trip_through_the_wire_form():
    text = json.dumps([1, 2.5, "é", None, True, {"a": [1]}, float("nan"), float("inf")])
    value = decode(text)
    assert value[:6] == [1, 2.5, "é", None, True, {"a": [1]}]
    assert math.isnan(value[6]) and value[7] == math.inf


def test_tagged_nodes_decode_to_tuples_arrays_scalars_and_frames():
    tree = {
        "t": {"__mooc__": "tuple", "items": [1, 2]},
        "a": {"__mooc__": "ndarray", "blob": 0},
        "s": {"__mooc__": "npscalar", "blob": 1},
        "d": {"__mooc__": "dict", "items": {"__mooc__": "kept"}},
        "f": {
            "__mooc__": "dataframe",
            "columns": ["x", "name"],
            "index": {"__mooc__": "ndarray", "blob": 2},
            "data": [{"__mooc__": "ndarray", "blob": 3}, ["a", "b"]],
        },
    }
    blobs = [npy(np.arange(6).reshape(2, 3)), npy(np.float32(1.5)), npy(np.arange(2)), npy([0.5, 1.5])]
    value = decode(json.dumps(tree), blobs)
    assert value["t"] == (1, 2)
    assert value["a"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert isinstance(value["s"], np.float32) and value["s"] == 1.5
    assert value["d"] == {"__mooc__": "kept"}
    assert isinstance(value["f"], DataFrameData)
    assert value["f"].column("name") == ["a", "b"]


def test_deeply_nested_json_is_rejected_without_recursion_crash():
    for depth in (70, 1000, 200_000):
        with pytest.raises(TransferError, match="nesting"):
            decode("[" * depth + "]" * depth)


def test_oversized_answer_is_rejected_before_parsing():
    with pytest.raises(TransferError, match="larger than"):
        decode("[" + "1," * 600_000 + "1]")


def test_huge_integer_literal_is_a_clean_error():
    with pytest.raises(TransferError):
        decode("1" * 100_000)


@pytest.mark.parametrize(
    "tree",
    [
        {"__mooc__": "ndarray", "blob": 5},  # no such blob
        {"__mooc__": "ndarray", "blob": "0"},  # wrong type
        {"__mooc__": "ndarray", "blob": 0, "x": 1},  # extra key
        {"__mooc__": "pickle", "data": "gASV"},  # unknown tag
        [{"__mooc__": "ndarray", "blob": 0}, {"__mooc__": "ndarray", "blob": 0}],  # blob reused
        {"__mooc__": "npscalar", "blob": 0},  # a 2-element array is not a scalar
    ],
)
def test_malformed_tags_are_rejected(tree):
    with pytest.raises(TransferError):
        decode(json.dumps(tree), [npy([1, 2])])


def forged_npy(shape_text: str, descr: str = "<f8", data: bytes = b"") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}"
    raw = header.encode("latin1")
    raw += b" " * (63 - (10 + len(raw)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw + data


def test_npy_header_claiming_a_huge_shape_is_rejected_without_allocating():
    assert load_npy(forged_npy("(2,)", data=bytes(16)), max_bytes=1000).tolist() == [0.0, 0.0]
    t0 = time.monotonic()
    for shape in ("(99999999999999,)", "(4000000, 4000000)", "(-1,)", "('a',)"):
        with pytest.raises(TransferError):
            load_npy(forged_npy(shape, data=bytes(16)), max_bytes=1_000_000)
    assert time.monotonic() - t0 < 0.5


def test_empty_array_claiming_a_huge_other_dimension_is_rejected():
    # (10**9, 0) has no bytes, but list(a) or a.tolist() in a test would build 10**9 objects in the worker.
    assert load_npy(npy(np.empty((3, 0))), max_bytes=1_000).shape == (3, 0)
    for shape in ((10**9, 0), (0, 10**9), (0, 5_000, 5_000)):
        with pytest.raises(TransferError, match="larger than"):
            load_npy(npy(np.empty(shape)), max_bytes=1_000_000)


def test_object_and_structured_npy_are_rejected():
    obj = io.BytesIO()
    np.lib.format.write_array(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(TransferError, match="dtype object"):
        load_npy(obj.getvalue(), max_bytes=1_000_000)
    with pytest.raises(TransferError, match="dtype"):
        load_npy(npy(np.zeros(2, dtype=[("a", "i4"), ("b", "f8")])), max_bytes=1_000_000)


def test_truncated_and_garbage_npy_are_rejected():
    good = npy(np.arange(10))
    for bad in (good[:-3], good + b"xx", b"\x93NUMPY\x09\x00junk", b"not an array at all"):
        with pytest.raises(TransferError):
            load_npy(bad, max_bytes=1_000_000)


def test_arguments_encode_plain_data_and_arrays_and_refuse_the_rest():
    text, blobs = encode_args([3, (1, 2), np.arange(3)], {"k": {"a": None}}, max_depth=8, max_bytes=10_000)
    tree = json.loads(text)
    assert tree["args"][0] == 3 and tree["args"][1] == {"__mooc__": "tuple", "items": [1, 2]}
    assert len(blobs) == 1
    with pytest.raises(TransferError, match="cannot send"):
        encode_args([object()], {}, max_depth=8, max_bytes=10_000)
    with pytest.raises(TransferError, match="larger than"):
        encode_args([np.zeros(10_000)], {}, max_depth=8, max_bytes=10_000)
