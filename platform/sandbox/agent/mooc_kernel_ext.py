"""IPython extension loaded into the learner's kernel inside the grading sandbox.

It does three things:
* caps what a cell prints at the source (see _cap_streams);
* turns shell escapes (``!cmd``, ``%%bash`` and friends, ``%pip``) into a printed note, so a
  notebook behaves the same in the grader whatever it tries to run;
* preloads numpy so the first graded cell does not pay for the import;
* provides ``fetch`` and ``call``, which the agent executes to turn a value of the learner's
  namespace into plain data (a JSON tree plus ``.npy`` blobs) and send it on the kernel's IOPub
  channel as a ``mooc_answer`` message with binary buffers.

Nothing here is trusted by the host: learner code runs in this very process and may replace any
of it. The host decodes every answer with its own strict, size-capped decoder and compares values
itself, so a tampered encoder can only send the learner some plain data of its choosing, which a
plain ``return`` could do as well.

Wire form of a value (the host's grading/sandbox/transfer.py is the reference decoder):
  None, bool, int, float (NaN/Infinity allowed), str, list  -> themselves
  dict with str keys                                        -> itself, unless it has the key
                                                               "__mooc__": {"__mooc__": "dict", "items": {...}}
  tuple                                                     -> {"__mooc__": "tuple", "items": [...]}
  numpy.ndarray (not object/structured dtype)               -> {"__mooc__": "ndarray", "blob": i}
  numpy scalar                                              -> {"__mooc__": "npscalar", "blob": i}
  pandas.DataFrame -> {"__mooc__": "dataframe", "columns": [...], "index": COL, "data": [COL, ...]}
  pandas.Series    -> {"__mooc__": "series", "name": v, "index": COL, "values": COL}
  where COL is an ndarray node, or a list of values for object-dtype columns.
Blob i is the i-th binary buffer, a complete ``.npy`` file written with allow_pickle=False.
"""

import base64
import io
import json
import os
import sys

ANSWER_MSG_TYPE = "mooc_answer"
SHELL_DISABLED_NOTE = "[grader] shell commands are disabled in the grading sandbox: {}\n"
_SCRIPT_MAGICS = ("bash", "sh", "script", "perl", "ruby", "python2", "python3", "pypy", "system", "sx")


class Untransferable(Exception):
    """The value cannot cross the sandbox boundary as plain data."""


def _type_name(value):
    t = type(value)
    mod = getattr(t, "__module__", "") or ""
    name = getattr(t, "__qualname__", None) or getattr(t, "__name__", "?")
    return name if mod in ("builtins", "__main__", "") else f"{mod}.{name}"


class _Encoder:
    def __init__(self, budget, max_depth):
        self.budget = int(budget)
        self.max_depth = int(max_depth)
        self.size = 0
        self.blobs = []

    def _spend(self, n):
        self.size += n
        if self.size > self.budget:
            raise Untransferable(f"cannot transfer: answer larger than {self.budget} bytes")

    def _array(self, arr, tag):
        import numpy as np

        if arr.dtype.hasobject or arr.dtype.kind not in "biufcmMUS":
            raise Untransferable(f"cannot transfer ndarray of dtype {arr.dtype}")
        self._spend(arr.nbytes + 128)
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
        self.blobs.append(buf.getvalue())
        return {"__mooc__": tag, "blob": len(self.blobs) - 1}

    def _column(self, col, depth):
        arr = col.to_numpy()
        if arr.dtype.hasobject:
            return self.encode(arr.tolist(), depth + 1)
        return self._array(arr, "ndarray")

    def encode(self, value, depth=0):
        if depth > self.max_depth:
            raise Untransferable(f"cannot transfer: nesting deeper than {self.max_depth} levels")
        if value is None or value is True or value is False:
            self._spend(5)
            return value
        t = type(value)
        if t is int:
            self._spend(24 if -(2**63) <= value < 2**63 else len(str(value)))
            return value
        if t is float:
            self._spend(24)
            return value
        if t is str:
            self._spend(len(value) + 2)
            return value
        if t is list or t is tuple:
            self._spend(2)
            items = [self.encode(v, depth + 1) for v in value]
            return items if t is list else {"__mooc__": "tuple", "items": items}
        if t is dict:
            self._spend(2)
            out = {}
            for k, v in value.items():
                if type(k) is not str:
                    raise Untransferable(f"cannot transfer dict with {_type_name(k)} key")
                self._spend(len(k) + 4)
                out[k] = self.encode(v, depth + 1)
            return {"__mooc__": "dict", "items": out} if "__mooc__" in out else out
        np = sys.modules.get("numpy")
        if np is not None:
            if t is np.ndarray:
                return self._array(value, "ndarray")
            if isinstance(value, np.generic):
                return self._array(np.asarray(value), "npscalar")
        pd = sys.modules.get("pandas")
        if pd is not None:
            if t is pd.DataFrame:
                if value.columns.nlevels != 1:
                    raise Untransferable("cannot transfer DataFrame with MultiIndex columns")
                return {
                    "__mooc__": "dataframe",
                    "columns": self.encode(list(value.columns), depth + 1),
                    "index": self._column(value.index, depth),
                    "data": [self._column(value.iloc[:, i], depth) for i in range(value.shape[1])],
                }
            if t is pd.Series:
                return {
                    "__mooc__": "series",
                    "name": self.encode(value.name, depth + 1),
                    "index": self._column(value.index, depth),
                    "values": self._column(value, depth),
                }
        raise Untransferable(f"cannot transfer {_type_name(value)}")


def _decode(node, blobs, depth=0):
    """Decode arguments sent by the host (trusted, but still no pickle)."""
    if depth > 200:
        raise ValueError("arguments nested too deeply")
    if isinstance(node, list):
        return [_decode(v, blobs, depth + 1) for v in node]
    if isinstance(node, dict):
        tag = node.get("__mooc__")
        if tag is None:
            return {k: _decode(v, blobs, depth + 1) for k, v in node.items()}
        if tag == "dict":
            return {k: _decode(v, blobs, depth + 1) for k, v in node["items"].items()}
        if tag == "tuple":
            return tuple(_decode(v, blobs, depth + 1) for v in node["items"])
        if tag in ("ndarray", "npscalar"):
            import numpy as np

            arr = np.load(io.BytesIO(blobs[node["blob"]]), allow_pickle=False)
            return arr[()] if tag == "npscalar" else arr
        raise ValueError(f"unknown argument tag {tag!r}")
    return node


def _send_answer(token, content, blobs=()):
    from IPython import get_ipython

    kernel = get_ipython().kernel
    content = dict(content, token=token)
    kernel.session.send(
        kernel.iopub_socket,
        ANSWER_MSG_TYPE,
        content,
        parent=kernel.get_parent("shell"),
        ident=ANSWER_MSG_TYPE.encode(),
        buffers=list(blobs),
    )


def _reply_value(token, produce, budget, max_depth):
    try:
        value = produce()
    except Exception as exc:  # noqa: BLE001 - the learner's error; interrupts and exits propagate
        _send_answer(token, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    try:
        enc = _Encoder(budget, max_depth)
        tree = enc.encode(value)
        header = json.dumps(tree, ensure_ascii=True, allow_nan=True)
    except Untransferable as exc:
        _send_answer(token, {"ok": False, "error": str(exc)})
        return
    except RecursionError:
        _send_answer(token, {"ok": False, "error": "cannot transfer: nesting too deep"})
        return
    except Exception as exc:  # noqa: BLE001 - e.g. a learner's property that raises
        _send_answer(token, {"ok": False, "error": f"cannot transfer {_type_name(value)}: {type(exc).__name__}: {exc}"})
        return
    _send_answer(token, {"ok": True, "value_json": header}, enc.blobs)


def fetch(token, expr, budget, max_depth):
    """Evaluate ``expr`` in the learner's namespace and send the result as plain data."""
    from IPython import get_ipython

    ns = get_ipython().user_ns

    def produce():
        return eval(compile(expr, "<grader>", "eval"), ns)  # noqa: S307 - the grader's expression, in the sandbox

    _reply_value(token, produce, budget, max_depth)


def call(token, name, args_json, blobs_b64, budget, max_depth):
    """Call the learner's top-level function ``name`` with decoded plain-data arguments."""
    from IPython import get_ipython

    ns = get_ipython().user_ns
    blobs = [base64.b64decode(b) for b in blobs_b64]
    spec = _decode(json.loads(args_json), blobs)

    def produce():
        if name not in ns:
            raise NameError(f"name {name!r} is not defined")
        fn = ns[name]
        if not callable(fn):
            raise TypeError(f"{name!r} is not callable")
        return fn(*spec["args"], **spec["kwargs"])

    _reply_value(token, produce, budget, max_depth)


def _disable_shell(ip):
    def no_system(cmd, *args, **kwargs):
        sys.stderr.write(SHELL_DISABLED_NOTE.format(cmd))
        sys.stderr.flush()
        return None

    def no_getoutput(cmd, *args, **kwargs):
        no_system(cmd)
        from IPython.utils.text import SList

        return SList()

    ip.system = ip.system_raw = ip.system_piped = no_system
    ip.getoutput = no_getoutput

    def no_script(line, cell=None):
        no_system("%%" + (line or "script"))

    cell_magics = ip.magics_manager.magics.get("cell", {})
    for name in _SCRIPT_MAGICS:
        if name in cell_magics:
            ip.register_magic_function(no_script, magic_kind="cell", magic_name=name)


def _cap_streams(ip):
    """Stop printed text at the source once a cell has printed more than the agent will keep.

    Without this, a flood (hundreds of MB from a print loop) piles up in ipykernel's stream buffer
    faster than it is sent and kills the kernel for memory. The agent does the exact accounting;
    this only needs to be generous (its budget plus a margin) and cheap. Reset before every cell.
    """
    try:
        budget = int(os.environ.get("MOOC_OUTPUT_BYTES", "1000000")) + 65536
    except ValueError:
        budget = 1065536
    left = {}

    def capped(name, stream):
        write = stream.write

        def capped_write(text):
            n = left.get(name, budget)
            if n <= 0:
                return len(text)
            if len(text) > n:
                write(text[:n])
                left[name] = 0
                return len(text)
            left[name] = n - len(text)
            return write(text)

        try:
            stream.write = capped_write
        except (AttributeError, TypeError):
            pass

    capped("stdout", sys.stdout)
    capped("stderr", sys.stderr)
    ip.events.register("pre_run_cell", lambda *args: left.clear())


def load_ipython_extension(ip):
    _disable_shell(ip)
    _cap_streams(ip)
    try:
        import numpy  # noqa: F401  (preload: the first graded cell should not pay for it)
    except ImportError:
        pass
