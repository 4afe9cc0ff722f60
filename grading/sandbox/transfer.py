"""Plain data across the sandbox boundary: encode arguments for the learner's kernel, decode answers.

The wire form (a JSON tree plus ``.npy`` blobs) is described in
platform/sandbox/agent/mooc_kernel_ext.py, the in-kernel encoder. This module is the reference
decoder and it trusts nothing: the JSON size, nesting depth, node types, tag shapes, blob indexes,
``.npy`` headers and data sizes are all checked, ``.npy`` is parsed without pickle and without
letting a header allocate what the bytes do not contain, and no value is ever evaluated. Any
failure is a :class:`TransferError` with a short message fit for feedback.

Decoded types: None, bool, int, float (NaN and infinities included), str, list, tuple, dict with
str keys, ``numpy.ndarray`` (numeric, bool, complex, datetime/timedelta, fixed-width str/bytes),
numpy scalars, and pandas objects as :class:`DataFrameData` / :class:`SeriesData` (pandas is not
needed on the host; ``to_pandas()`` converts when it is installed).
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import Any

ALLOWED_DTYPE_KINDS = "biufcmMUS"
NPY_HEADER_MAX = 10_000


class TransferError(ValueError):
    """A value could not cross the boundary (too big, too deep, unsupported or malformed)."""


@dataclass(frozen=True, eq=False)
class DataFrameData:
    """A pandas DataFrame as plain data: column labels, the index, one column of values each.

    A column (and the index) is a numpy array, or a list of plain values for object columns.
    """

    columns: list
    index: Any
    data: list

    def column(self, label):
        return self.data[self.columns.index(label)]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(dict(enumerate(self.data)), index=self.index).set_axis(self.columns, axis=1)


@dataclass(frozen=True, eq=False)
class SeriesData:
    """A pandas Series as plain data."""

    name: Any
    index: Any
    values: Any

    def to_pandas(self):
        import pandas as pd

        return pd.Series(self.values, index=self.index, name=self.name)


# --- decoding (answers from the kernel) -----------------------------------------------------------
def load_npy(buf: bytes, *, max_bytes: int):
    """Parse one ``.npy`` file safely: no pickle, no object dtypes, sizes checked before use."""
    import numpy as np
    from numpy.lib import format as npf

    if len(buf) > max_bytes:
        raise TransferError("array larger than the answer limit")
    f = io.BytesIO(buf)
    try:
        version = npf.read_magic(f)
        reader = {(1, 0): npf.read_array_header_1_0, (2, 0): npf.read_array_header_2_0}.get(version)
        if reader is None:
            raise TransferError(f"unsupported .npy version {version}")
        try:
            shape, fortran, dtype = reader(f, max_header_size=NPY_HEADER_MAX)
        except TypeError:  # numpy < 1.24 has no max_header_size
            shape, fortran, dtype = reader(f)
    except TransferError:
        raise
    except Exception as exc:  # ValueError, SyntaxError from a hostile header, ...
        raise TransferError("malformed array data") from exc
    if dtype.hasobject or dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.fields is not None:
        raise TransferError(f"cannot transfer ndarray of dtype {dtype}")
    count = extent = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:
            raise TransferError("malformed array shape")
        count *= dim
        # An empty array may claim any other dimension ((10**9, 0) costs no bytes), but iterating over
        # it or calling tolist() on the trusted side would cost as much as a full one: bound both.
        extent *= max(dim, 1)
    if count > max_bytes or extent * max(dtype.itemsize, 1) > max_bytes:
        raise TransferError("array larger than the answer limit")
    data = memoryview(buf)[f.tell() :]
    if len(data) != count * dtype.itemsize:
        raise TransferError("array data does not match its header")
    if dtype.itemsize == 0:
        arr = np.zeros(shape, dtype=dtype)
    else:
        arr = np.frombuffer(data, dtype=dtype, count=count).copy()
        arr = arr.reshape(shape, order="F" if fortran else "C")
    return arr


class _Decoder:
    def __init__(self, blobs: list[bytes], max_depth: int, max_bytes: int):
        self.blobs = blobs
        self.used: set[int] = set()
        self.max_depth = max_depth
        self.max_bytes = max_bytes

    def _blob(self, node: dict, keys: set):
        if set(node) != keys:
            raise TransferError("malformed answer")
        i = node["blob"]
        if type(i) is not int or not 0 <= i < len(self.blobs) or i in self.used:
            raise TransferError("malformed answer")
        self.used.add(i)
        return load_npy(self.blobs[i], max_bytes=self.max_bytes)

    def _column(self, node, depth):
        if isinstance(node, dict) and node.get("__mooc__") == "ndarray":
            return self._blob(node, {"__mooc__", "blob"})
        if isinstance(node, list):
            return self.decode(node, depth + 1)
        raise TransferError("malformed answer")

    def decode(self, node, depth=0):
        if depth > self.max_depth:
            raise TransferError(f"cannot transfer: nesting deeper than {self.max_depth} levels")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [self.decode(v, depth + 1) for v in node]
        if type(node) is not dict:
            raise TransferError("malformed answer")
        tag = node.get("__mooc__")
        if tag is None:
            return {k: self.decode(v, depth + 1) for k, v in node.items()}
        if tag == "dict" and set(node) == {"__mooc__", "items"} and type(node["items"]) is dict:
            return {k: self.decode(v, depth + 1) for k, v in node["items"].items()}
        if tag == "tuple" and set(node) == {"__mooc__", "items"} and type(node["items"]) is list:
            return tuple(self.decode(v, depth + 1) for v in node["items"])
        if tag == "ndarray":
            return self._blob(node, {"__mooc__", "blob"})
        if tag == "npscalar":
            arr = self._blob(node, {"__mooc__", "blob"})
            if arr.shape != ():
                raise TransferError("malformed answer")
            return arr[()]
        if tag == "dataframe" and set(node) == {"__mooc__", "columns", "index", "data"}:
            columns = self.decode(node["columns"], depth + 1)
            if type(columns) is not list or type(node["data"]) is not list or len(node["data"]) != len(columns):
                raise TransferError("malformed answer")
            return DataFrameData(
                columns=columns,
                index=self._column(node["index"], depth),
                data=[self._column(c, depth) for c in node["data"]],
            )
        if tag == "series" and set(node) == {"__mooc__", "name", "index", "values"}:
            return SeriesData(
                name=self.decode(node["name"], depth + 1),
                index=self._column(node["index"], depth),
                values=self._column(node["values"], depth),
            )
        raise TransferError("malformed answer")


def decode_value(value_json: str, blobs: list[bytes], *, max_depth: int, max_bytes: int):
    """Decode an answer produced by the in-kernel encoder; raises TransferError."""
    if not isinstance(value_json, str) or len(value_json) + sum(len(b) for b in blobs) > max_bytes:
        raise TransferError(f"answer larger than {max_bytes} bytes")
    try:
        tree = json.loads(value_json)
    except RecursionError as exc:
        raise TransferError(f"cannot transfer: nesting deeper than {max_depth} levels") from exc
    except ValueError as exc:  # includes integers too long to convert
        raise TransferError("malformed answer") from exc
    try:
        return _Decoder(blobs, max_depth, max_bytes).decode(tree)
    except RecursionError as exc:
        raise TransferError(f"cannot transfer: nesting deeper than {max_depth} levels") from exc


# --- encoding (arguments for the learner's functions) ---------------------------------------------
class _Encoder:
    def __init__(self, max_depth: int, max_bytes: int):
        self.max_depth = max_depth
        self.max_bytes = max_bytes
        self.size = 0
        self.blobs: list[bytes] = []

    def _spend(self, n):
        self.size += n
        if self.size > self.max_bytes:
            raise TransferError(f"arguments larger than {self.max_bytes} bytes")

    def encode(self, value, depth=0):
        if depth > self.max_depth:
            raise TransferError(f"arguments nested deeper than {self.max_depth} levels")
        if value is None or isinstance(value, (bool, int, float, str)):
            if isinstance(value, str):
                self._spend(len(value) + 2)
            else:
                self._spend(24)
            return value if type(value) in (type(None), bool, int, float, str) else _plain_scalar(value)
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, depth + 1) for v in value]
            return {"__mooc__": "tuple", "items": items} if isinstance(value, tuple) else items
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if type(k) is not str:
                    raise TransferError(f"argument dict keys must be str, not {type(k).__name__}")
                out[k] = self.encode(v, depth + 1)
            return {"__mooc__": "dict", "items": out} if "__mooc__" in out else out
        try:
            import numpy as np
        except ImportError:  # pragma: no cover - numpy is a host requirement
            np = None
        if np is not None and isinstance(value, (np.ndarray, np.generic)):
            arr = np.asarray(value)
            if arr.dtype.hasobject or arr.dtype.kind not in ALLOWED_DTYPE_KINDS or arr.dtype.fields:
                raise TransferError(f"cannot send ndarray of dtype {arr.dtype}")
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arr, allow_pickle=False)
            self._spend(len(buf.getvalue()) * 4 // 3 + 4)
            self.blobs.append(buf.getvalue())
            tag = "ndarray" if isinstance(value, np.ndarray) else "npscalar"
            return {"__mooc__": tag, "blob": len(self.blobs) - 1}
        raise TransferError(f"cannot send {type(value).__name__} to the sandbox")


def _plain_scalar(value):
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def encode_args(args, kwargs, *, max_depth: int, max_bytes: int) -> tuple[str, list[str]]:
    """Encode call arguments: (JSON text, list of base64 ``.npy`` blobs). Raises TransferError."""
    enc = _Encoder(max_depth, max_bytes)
    tree = {"args": [enc.encode(a, 1) for a in args], "kwargs": {}}
    for k, v in (kwargs or {}).items():
        if type(k) is not str or k == "__mooc__":
            raise TransferError(f"invalid keyword argument name {k!r}")
        tree["kwargs"][k] = enc.encode(v, 1)
    # The kernel-side decoder expects plain nodes at the top: {"args": [...], "kwargs": {...}}.
    text = json.dumps(tree, ensure_ascii=True, allow_nan=True)
    return text, [base64.b64encode(b).decode("ascii") for b in enc.blobs]
