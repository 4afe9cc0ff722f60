"""Running a test in the trusted process against a learner's kernel.

The test's code (written by course staff) executes here, in the worker. Every name it reads that it
does not define itself is looked up in the learner's kernel: a function becomes a `RemoteFunction`
(calling it sends plain-data arguments and gets plain data back), a module becomes the same module
imported here (from an allow-list), anything else is fetched as plain data. Comparisons, asserts
and try/except all run here, so nothing the learner's notebook does to its own interpreter (patched
`np.allclose`, an `__eq__` that is always true, input transformers, a fake test runner) takes part
in deciding the score. Deleting or re-binding a learner name in a test (nbgrader's "does f use g"
pattern) is mirrored into the kernel, so the learner's code sees the change.
"""

from __future__ import annotations

import ast
import base64
import builtins
import cmath
import contextlib
import contextvars
import functools
import importlib
import io
import itertools
import math
import os
import resource
import secrets
import signal
import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings

# Modules a test may get by a name the learner's notebook bound (`np`, `pd`, ...): the trusted side
# imports its own copy. Anything else a test needs it imports itself.
ALLOWED_MODULES = frozenset(
    {
        "numpy",
        "numpy.linalg",
        "numpy.random",
        "numpy.testing",
        "math",
        "cmath",
        "statistics",
        "random",
        "collections",
        "itertools",
        "functools",
        "operator",
        "re",
        "json",
        "string",
        "fractions",
        "decimal",
        "numbers",
        "copy",
        "typing",
        "pandas",
        "scipy",
        "scipy.special",
        "scipy.stats",
        "scipy.linalg",
    }
)  # fmt: skip  (exact names: what the kernel says about a name is the learner's word, never trusted further)
BUILTIN_NAMES = set(dir(builtins))
# How a sandbox answer says "the value exists but is not plain data" (as opposed to "the code raised").
TRANSFER_ERROR_PREFIX = "cannot transfer"
_KEEP_COUNTER = itertools.count(1)
_KEEP_PREFIX = f"__mooc_keep_{secrets.token_hex(4)}_"

KERNEL_HELPERS = """
def __mooc_describe(names):
    import types as _t
    out = {}
    g = globals()
    for n in names:
        if n not in g:
            out[n] = "missing"
        elif isinstance(g[n], _t.ModuleType):
            out[n] = "module:" + str(getattr(g[n], "__name__", ""))
        elif callable(g[n]):
            out[n] = "callable"
        else:
            out[n] = "value"
    return out

def __mooc_alias(dst, src):
    globals()[dst] = globals()[src]

def __mooc_delete(name, keep):
    globals()[keep] = globals().pop(name)

def __mooc_set(name, value):
    globals()[name] = value
"""


# MemoryError too: a learner's function raising it must not read as the grader running out of memory.
_NOT_REPLAYED = frozenset({StopIteration, StopAsyncIteration, GeneratorExit, MemoryError})

# ---------------------------------------------------------------------------------------------
# Bounds on the trusted side (ADR 0001): staff test code runs here on learner-shaped data.

# Extra address space a test may use on top of what the worker already has, and CPU time per test.
TEST_MEMORY_BYTES = getattr(settings, "GRADING_TEST_MEMORY_MB", 512) * 1024 * 1024
TEST_CPU_SECONDS = float(getattr(settings, "GRADING_TEST_CPU_SECONDS", 10.0))
# An elementwise operation on a learner array may not broadcast to more values than this (and more
# than four times its largest operand): a (250000, 1) answer against 599 reference values would.
BROADCAST_MAX_VALUES = 5_000_000


class TrustedTimeLimit(BaseException):  # not an Exception: a test's `except Exception` must not swallow it
    """A test used up its CPU time on the trusted side."""


class EmptyComparison(AssertionError):
    """An elementwise operation on a learner array compared nothing although one side had values."""


def _on_cpu_limit(signum, frame):
    raise TrustedTimeLimit


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@contextlib.contextmanager
def trusted_limits():
    """Run a test with an address-space limit (RLIMIT_AS: what it allocates beyond the worker's own size
    fails with MemoryError) and a CPU-time alarm (ITIMER_PROF: time spent waiting for the learner's
    kernel does not count). The worker's limits are restored afterwards."""
    old_soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        soft = _address_space_bytes() + TEST_MEMORY_BYTES
    except OSError:  # no /proc: no memory bound, the CPU bound still applies
        soft = old_soft
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    if old_soft != resource.RLIM_INFINITY:
        soft = min(soft, old_soft)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    # Signals can only be handled by the main thread; a grading run in another thread (a development
    # server) keeps the memory bound only.
    timed = threading.current_thread() is threading.main_thread()
    if timed:
        previous = signal.signal(signal.SIGPROF, _on_cpu_limit)
        # Re-fires every quarter second, in case the test's code catches it with a bare `except:`.
        signal.setitimer(signal.ITIMER_PROF, TEST_CPU_SECONDS, 0.25)
    try:
        yield
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_PROF, 0, 0)
            signal.signal(signal.SIGPROF, previous)
        resource.setrlimit(resource.RLIMIT_AS, (old_soft, hard))


@contextlib.contextmanager
def _shielded():
    """While a request to the kernel is on the wire, the CPU alarm waits: interrupting a half-read
    answer would break the channel for every later test."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPROF})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ---------------------------------------------------------------------------------------------
# Learner arrays: no comparison is vacuously true, no broadcast blows up the worker.


def _size(shape) -> int:
    return math.prod(shape)


def _check_broadcast(ufunc, inputs, method: str) -> None:
    try:
        shapes = [np.shape(x) for x in inputs]
        out = tuple(itertools.chain.from_iterable(shapes)) if method == "outer" else np.broadcast_shapes(*shapes)
    except Exception:  # noqa: BLE001 - ragged or unbroadcastable: numpy itself says so next
        return
    largest = max((_size(s) for s in shapes), default=0)
    # A scalar operand states a property of each element (`f(x) > 0`), vacuously true of no elements
    # as in mathematics; an array operand with values states which values must be there.
    if _size(out) == 0 and any(len(s) and _size(s) for s in shapes):
        shown = " and ".join(str(s) for s in shapes)
        raise EmptyComparison(
            f"{ufunc.__name__} of arrays of shapes {shown} gives an empty result {out}: it compares nothing. "
            "Check the shape of what your function returns."
        )
    if _size(out) > BROADCAST_MAX_VALUES and _size(out) > 4 * largest:
        shown = " and ".join(str(s) for s in shapes)
        raise EmptyComparison(
            f"{ufunc.__name__} of arrays of shapes {shown} would broadcast to shape {out} ({_size(out):,} values). "
            "Check the shape of what your function returns."
        )


class GuardedArray(np.ndarray):
    """An ndarray for test code: an elementwise operation whose operands have values but whose result
    is empty (np.zeros((0, 1)) == [0.5, 0.7] broadcasts to shape (0, 2), and np.all of that is True)
    fails the test instead, as does a broadcast to a huge shape. Results stay guarded."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = tuple(x.view(np.ndarray) if isinstance(x, GuardedArray) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, GuardedArray) else o for o in kwargs["out"])
        if method in ("__call__", "outer") and len(plain) > 1:
            _check_broadcast(ufunc, plain, method)
        result = getattr(ufunc, method)(*plain, **kwargs)
        learner = any(isinstance(x, LearnerArray) for x in inputs)
        return _guard(result, learner=learner)


class LearnerArray(GuardedArray):
    """A GuardedArray holding (or computed from) a value that came from the learner's kernel."""


def _guard(value, *, learner: bool):
    cls = LearnerArray if learner else GuardedArray
    if isinstance(value, np.ndarray) and not isinstance(value, cls) and value.dtype != object:
        return value.view(cls)
    if isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value):
        return tuple(_guard(v, learner=learner) for v in value)
    return value


def as_learner_value(value):
    """A value from the kernel, with its arrays (at any depth of lists, tuples, dicts) as LearnerArrays."""
    if isinstance(value, np.ndarray):
        return _guard(value, learner=True)
    if type(value) is list:
        return [as_learner_value(v) for v in value]
    if type(value) is tuple:
        return tuple(as_learner_value(v) for v in value)
    if type(value) is dict:
        return {k: as_learner_value(v) for k, v in value.items()}
    return value


def _vacuous(a: Any, b: Any) -> bool:
    """True when comparing a and b elementwise compares nothing although one of them has elements:
    numpy broadcasts np.zeros((0, 1, 1)) against any array to an empty result, which np.allclose calls
    "all close". A learner function returning such an array must not pass a test written with allclose."""
    try:
        a_shape, b_shape = np.shape(a), np.shape(b)
        empty = math.prod(np.broadcast_shapes(a_shape, b_shape)) == 0
    except Exception:  # noqa: BLE001 - ragged or unbroadcastable: numpy itself will say so
        return False
    return empty and (math.prod(a_shape) > 0 or math.prod(b_shape) > 0)


def _tolerance(args, kwargs) -> tuple[float, float]:
    rtol = kwargs.get("rtol", args[0] if len(args) > 0 else 1e-05)
    atol = kwargs.get("atol", args[1] if len(args) > 1 else 1e-08)
    return rtol, atol


def _strict_allclose(a, b, *args, **kwargs):
    result = False if _vacuous(a, b) else np.allclose(a, b, *args, **kwargs)
    if not result:
        _record(a, b, "close", *_tolerance(args, kwargs))
    return result


def _strict_isclose(a, b, *args, **kwargs):
    if _vacuous(a, b):
        result = np.zeros(max(np.shape(a), np.shape(b), key=math.prod), dtype=bool)
    else:
        result = np.isclose(a, b, *args, **kwargs)
    if not np.all(result):
        _record(a, b, "close", *_tolerance(args, kwargs))
    return _guard(result, learner=False)


def _recording_array_equal(a, b, *args, **kwargs):
    result = np.array_equal(a, b, *args, **kwargs)
    if not result:
        _record(a, b, "==")
    return result


_OVERRIDES = {"allclose": _strict_allclose, "isclose": _strict_isclose, "array_equal": _recording_array_equal}


def _guarding(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return _guard(function(*args, **kwargs), learner=False)

    return wrapper


class _TestNumpy(types.ModuleType):
    """The numpy a test gets by importing it: numpy itself, except that the arrays its functions return
    are GuardedArrays, allclose/isclose do not count an empty broadcast as a match, and failed
    comparisons are remembered for the feedback. Only the test's namespace sees this; numpy is not
    patched."""

    def __getattr__(self, name):
        if name in _OVERRIDES:
            return _OVERRIDES[name]
        value = getattr(np, name)
        if callable(value) and not isinstance(value, (type, np.ufunc, types.ModuleType)):
            value = _guarding(value)
        self.__dict__[name] = value  # cached: later lookups do not come here
        return value


TEST_NUMPY = _TestNumpy("numpy", np.__doc__)


def _test_import(name, globals=None, locals=None, fromlist=(), level=0):
    module = builtins.__import__(name, globals, locals, fromlist, level)
    return TEST_NUMPY if module is np else module


TEST_BUILTINS = {**vars(builtins), "__import__": _test_import}


class LearnerError(Exception):
    """The learner's code raised an exception that has no builtin equivalent here."""

    def __init__(self, ename: str, evalue: str):
        self.ename, self.evalue = ename, evalue
        super().__init__(f"{ename}: {evalue}" if evalue else ename)


class TransferError(Exception):
    """A value could not cross the sandbox boundary as plain data."""


class KernelGone(Exception):
    """The learner's kernel is no longer running (timeout, memory, crash)."""


class LearnerNotImplemented(NotImplementedError):
    """A learner's function raised NotImplementedError (the starter's stub, usually)."""

    def __init__(self, function: str, evalue: str):
        self.function = function
        super().__init__(evalue)


def _raise_learner_error(error: str) -> None:
    ename, _, evalue = (error or "Error").partition(": ")
    ename = ename.strip() or "Error"
    cls = getattr(builtins, ename, None)
    # Control-flow exceptions would change what the test's own code does (StopIteration ends an
    # iteration "successfully"): only ordinary errors are re-raised as themselves.
    if isinstance(cls, type) and issubclass(cls, Exception) and cls not in _NOT_REPLAYED:
        raise cls(evalue)
    raise LearnerError(ename, evalue)


class Kernel:
    """The trusted side's handle on one learner kernel, over a sandbox session."""

    def __init__(self, session):
        self.session = session
        self._helpers_ready = False
        # Top-level functions the notebook defines: name -> (cell number, still raises NotImplementedError).
        self.definitions: dict[str, tuple[int, bool]] = {}

    def not_implemented_message(self, name: str) -> str:
        cell, stub = self.definitions.get(name, (0, False))
        if stub:
            return f"`{name}` is not implemented yet — cell {cell} still raises NotImplementedError."
        stubs = [f"`{n}` (cell {c})" for n, (c, s) in self.definitions.items() if s and n != name][:3]
        if stubs:
            return f"`{name}` raised NotImplementedError: {', '.join(stubs)} not implemented yet."
        return f"`{name}` raised NotImplementedError: it is not implemented yet."

    def _check(self, answer):
        status = getattr(self.session, "status", "ok")
        if status != "ok":  # the session ended: total time used up, out of memory, crashed, tampered channel
            raise KernelGone(f"{status}: {answer.error or 'the notebook stopped'}")
        return answer

    def ensure_helpers(self) -> None:
        if not self._helpers_ready:
            with _shielded():
                result = self.session.run_cell(KERNEL_HELPERS)
            if result.status != "ok":
                raise KernelGone(f"the notebook's kernel did not accept the grader's helpers ({result.status})")
            self._helpers_ready = True

    def call(self, name: str, args: list, kwargs: dict | None = None):
        for value in itertools.chain(args, (kwargs or {}).values()):
            if isinstance(value, RemoteFunction):
                raise TransferError("a learner function cannot be passed as an argument")
        try:
            with _shielded():
                answer = self._check(self.session.call(name, args=list(args), kwargs=dict(kwargs or {})))
        except ValueError as exc:  # the sandbox's TransferError: these arguments cannot be sent
            raise TransferError(f"the test's arguments to {name}() are not plain data ({exc})") from exc
        if not answer.ok:
            if (answer.error or "").startswith("timeout"):
                raise LearnerError("Timeout", f"{name}() did not return in time")
            if (answer.error or "").startswith(TRANSFER_ERROR_PREFIX):
                raise TransferError(f"{name}() returned a value that is not plain data ({answer.error})")
            ename, _, evalue = (answer.error or "").partition(": ")
            if ename.strip() == "NotImplementedError" and not name.startswith("__mooc"):
                raise LearnerNotImplemented(name, evalue)
            _raise_learner_error(answer.error or "")
        value = as_learner_value(answer.value)
        _note_learner(value)
        return value

    def call_helper(self, name: str, args: list):
        """Call one of KERNEL_HELPERS, putting them back if a cell removed them since (`%reset -f`)."""
        self.ensure_helpers()
        try:
            return self.call(name, args)
        except NameError as exc:
            if name not in str(exc):
                raise
            self._helpers_ready = False
            self.ensure_helpers()
            return self.call(name, args)

    def describe(self, names: list[str]) -> dict[str, str]:
        if not names:
            return {}
        result = self.call_helper("__mooc_describe", [sorted(names)])
        if not isinstance(result, dict):
            raise TransferError("the kernel answered the name lookup with something other than a mapping")
        return {name: str(result.get(name, "missing")) for name in names}

    def fetch_name(self, name: str):
        with _shielded():
            answer = self._check(self.session.fetch(name))
        if not answer.ok:
            raise TransferError(f"the value of {name!r} cannot be read: {answer.error}")
        value = as_learner_value(answer.value)
        _note_learner(value)
        return value


class _Unavailable:
    """A learner value that could not be fetched; any use of it fails the test with the reason."""

    def __init__(self, name: str, reason: str):
        object.__setattr__(self, "_why", f"{name}: {reason}")

    def _fail(self, *args, **kwargs):
        raise TransferError(object.__getattribute__(self, "_why"))

    __getattr__ = __call__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _fail
    __bool__ = __len__ = __iter__ = __getitem__ = __contains__ = __hash__ = __float__ = __int__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __array__ = _fail

    def __repr__(self) -> str:
        return "<unavailable learner value>"


class RemoteFunction:
    """A learner's function, called in the kernel with plain-data arguments."""

    def __init__(self, kernel: Kernel, name: str):
        self.kernel = kernel
        self.name = name  # the kernel global it currently lives under
        self.display_name = name

    def __call__(self, *args, **kwargs):
        return self.kernel.call(self.name, list(args), kwargs)

    def __repr__(self) -> str:
        return f"<learner function {self.display_name}>"


# ---------------------------------------------------------------------------------------------
# Analysing and rewriting a test's code.


def free_names(tree: ast.AST) -> set[str]:
    """Names the code reads but never binds itself (an over-approximation is harmless: a name the
    learner does not define is simply not fetched)."""
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    # A name both read and assigned at top level (e.g. `orig = squares; del squares; squares = orig`)
    # is still the learner's when first read: keep names read before any binding.
    return (loaded - BUILTIN_NAMES - bound) | _read_before_bound(tree)


def _read_before_bound(tree: ast.AST) -> set[str]:
    seen_bound, early = set(), set()
    for stmt in getattr(tree, "body", []):
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in seen_bound:
                early.add(node.id)
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                seen_bound.add(node.id)
    return early - BUILTIN_NAMES


class _MirrorLearnerBindings(ast.NodeTransformer):
    """After a top-level `del x` or `x = ...` of a learner name, tell the kernel (not inside defs)."""

    def __init__(self, learner_names: set[str]):
        self.learner_names = learner_names

    def visit_FunctionDef(self, node):  # local names of a test's helper functions stay local
        return node

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def _sync(self, names: list[str], node: ast.stmt, op: str) -> list[ast.stmt]:
        calls = [
            ast.Expr(ast.Call(ast.Name("__mooc_sync__", ast.Load()), [ast.Constant(op), ast.Constant(n)], []))
            for n in names
            if n in self.learner_names
        ]
        return [node, *[ast.copy_location(c, node) for c in calls]] if calls else node

    def visit_Delete(self, node):
        names = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id in self.learner_names]
        if not names:
            return node
        others = [t for t in node.targets if not (isinstance(t, ast.Name) and t.id in self.learner_names)]
        rest = ast.copy_location(ast.Delete(targets=others), node) if others else ast.Pass()
        return self._sync(names, ast.copy_location(rest, node), "del")

    def visit_Assign(self, node):
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        return self._sync(names, node, "set")

    def visit_AnnAssign(self, node):
        names = [node.target.id] if isinstance(node.target, ast.Name) and node.value is not None else []
        return self._sync(names, node, "set")

    def visit_AugAssign(self, node):
        names = [node.target.id] if isinstance(node.target, ast.Name) else []
        return self._sync(names, node, "set")


RESULT_NAME = "__mooc_result__"
_CHECKS_SHAPE = ("shape", "len", "size", "ndim", "array_equal", "assert_array_equal", "assert_allclose",
                 "assert_array_almost_equal", "assert_equal")  # fmt: skip


def empty_pass_warnings(code: str) -> list[str]:
    """Asserts of a test that an empty array would pass (`np.all(f(x) == y)`, `all(... for ... in zip(...))`)
    when the test never checks a shape or a length: the grader refuses empty comparisons of learner
    arrays, but the test should say what it expects. For the self-check; never blocks publishing."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names = {
        n.attr if isinstance(n, ast.Attribute) else n.id
        for n in ast.walk(tree)
        if isinstance(n, (ast.Attribute, ast.Name))
    }
    if names & set(_CHECKS_SHAPE):
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        for call in ast.walk(node.test):
            func = call.func if isinstance(call, ast.Call) else None
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("all", "allclose") or (name == "isclose" and isinstance(func, ast.Attribute)):
                found.append(ast.unparse(node.test)[:120])
                break
    return found


_COMPARE_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class _ProbeAsserts(ast.NodeTransformer):
    """Inside an assert, `a == b` (and the other orderings) becomes `__mooc_cmp__("==", a, b)`, which
    computes the same value and remembers the operands when the comparison fails, for the feedback."""

    def __init__(self):
        self.in_assert = False

    def visit_Assert(self, node):
        self.in_assert = True
        node.test = self.visit(node.test)
        self.in_assert = False
        reset = ast.Expr(ast.Call(ast.Name("__mooc_reset__", ast.Load()), [], []))
        return [ast.copy_location(reset, node), node]

    def visit_Compare(self, node):
        self.generic_visit(node)
        op = _COMPARE_OPS.get(type(node.ops[0])) if len(node.ops) == 1 else None
        if not self.in_assert or op is None:
            return node
        call = ast.Call(ast.Name("__mooc_cmp__", ast.Load()), [ast.Constant(op), node.left, node.comparators[0]], [])
        return ast.copy_location(call, node)


def prepare(code: str, *, learner_names: set[str], want_value: bool, filename: str) -> Any:
    tree = ast.parse(code, filename=filename)
    if want_value and tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.copy_location(ast.Assign([ast.Name(RESULT_NAME, ast.Store())], last.value), last)
    tree = _ProbeAsserts().visit(tree)
    tree = _MirrorLearnerBindings(learner_names).visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


# ---------------------------------------------------------------------------------------------
# Running one test.


class TestOutcome:
    def __init__(self, *, passed: bool, message: str = "", value: Any = None):
        self.passed, self.message, self.value = passed, message, value


def run_test(kernel: Kernel, code: str, *, name: str, want_value: bool = False) -> TestOutcome:
    """Execute one test's code here, with learner names resolved through the kernel, within the
    trusted side's memory and CPU bounds."""
    try:
        tree = ast.parse(code, filename=f"<test {name}>")
    except SyntaxError as exc:
        return TestOutcome(passed=False, message=f"The test itself has a syntax error (line {exc.lineno}).")
    probe = _Probe()
    token = _PROBE.set(probe)
    try:
        with trusted_limits():
            return _run_test(kernel, tree, code, name=name, want_value=want_value, probe=probe)
    except TrustedTimeLimit:
        return TestOutcome(
            passed=False,
            message=f"Checking your answer took more than {TEST_CPU_SECONDS:g} s of the grader's time: "
            "check the size and shape of what your function returns.",
        )
    finally:
        _PROBE.reset(token)


def _run_test(kernel: Kernel, tree: ast.AST, code: str, *, name: str, want_value: bool, probe) -> TestOutcome:
    candidates = free_names(tree)
    namespace: dict[str, Any] = {
        "__name__": "__mooc_test__",
        "__builtins__": TEST_BUILTINS,
        "__mooc_cmp__": _compare,
        "__mooc_reset__": probe.reset,
    }
    try:
        kinds = kernel.describe(sorted(candidates))
        learner_names = set()
        for var, kind in kinds.items():
            if kind == "callable":
                namespace[var] = RemoteFunction(kernel, var)
                learner_names.add(var)
            elif kind.startswith("module:"):
                module = kind.split(":", 1)[1]
                if module in ALLOWED_MODULES:
                    imported = importlib.import_module(module)
                    namespace[var] = TEST_NUMPY if imported is np else imported
            elif kind == "value":
                try:
                    namespace[var] = kernel.fetch_name(var)
                except TransferError as exc:
                    # Only an error if the test really uses it (the name may be a loop variable of the test).
                    namespace[var] = _Unavailable(var, str(exc))
                learner_names.add(var)
        namespace["__mooc_sync__"] = _syncer(kernel, namespace)
        compiled = prepare(code, learner_names=learner_names, want_value=want_value, filename=f"<test {name}>")
        exec(compiled, namespace)  # noqa: S102 - staff-written test code, run in the trusted process by design
    except KernelGone:
        raise
    except LearnerNotImplemented as exc:
        return TestOutcome(passed=False, message=kernel.not_implemented_message(exc.function))
    except EmptyComparison as exc:
        return TestOutcome(passed=False, message=str(exc))
    except AssertionError as exc:
        detail = probe.describe()
        message = "\n".join(part for part in (str(exc), detail) if part)
        return TestOutcome(passed=False, message=message or "An assertion failed.")
    except TransferError as exc:
        return TestOutcome(passed=False, message=f"Your result could not be checked: {exc}.")
    except MemoryError:
        return TestOutcome(
            passed=False,
            message=f"Checking your answer needed more than {TEST_MEMORY_BYTES // 2**20} MB of the grader's memory: "
            "check the size and shape of what your function returns.",
        )
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any error in the test's run is a failed test
        return TestOutcome(passed=False, message=f"{type(exc).__name__}: {exc}")
    if want_value:
        if RESULT_NAME not in namespace:
            return TestOutcome(passed=False, message="The test has no expression to compare.")
        return TestOutcome(passed=True, value=namespace[RESULT_NAME])
    return TestOutcome(passed=True)


# ---------------------------------------------------------------------------------------------
# What was expected and what came back, for a failed assert (as numpy's testing helpers report it).

_PROBE: contextvars.ContextVar = contextvars.ContextVar("mooc_probe", default=None)
_OPERATORS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class _Probe:
    """The last failed comparison of the assert being run, and which values came from the kernel."""

    def __init__(self):
        self.learner_ids: set[int] = set()
        self.failed: tuple | None = None

    def reset(self) -> None:
        self.failed = None

    def is_learners(self, value) -> bool:
        return isinstance(value, LearnerArray) or id(value) in self.learner_ids

    def describe(self) -> str:
        if self.failed is None:
            return ""
        got, expected, op, rtol, atol = self.failed
        if self.is_learners(expected) and not self.is_learners(got):
            got, expected, op = expected, got, _MIRRORED.get(op, op)
        try:
            return mismatch_report(got, expected, op=op, rtol=rtol, atol=atol)
        except Exception:  # noqa: BLE001 - feedback is best effort; the test has failed either way
            return ""


def _note_learner(value) -> None:
    probe = _PROBE.get()
    if probe is not None:
        probe.learner_ids.add(id(value))


def _record(a, b, op: str, rtol: float | None = None, atol: float | None = None) -> None:
    probe = _PROBE.get()
    if probe is not None:
        probe.failed = (a, b, op, rtol, atol)


def _compare(op: str, left, right):
    result = _OPERATORS[op](left, right)
    try:
        ok = bool(np.all(result)) if isinstance(result, np.ndarray) else bool(result)
    except Exception:  # noqa: BLE001 - an odd result type: the assert itself will say what is wrong
        ok = True
    if not ok:
        _record(left, right, op)
    return result


def _numeric_array(value):
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - ragged lists and other non-arrays
        return None
    return array if array.dtype.kind in "biufc" else None


def _show(value, limit: int = 300) -> str:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.ndarray):
        text = np.array2string(
            value.view(np.ndarray),
            threshold=20,
            edgeitems=3,
            separator=", ",
            formatter={"float_kind": lambda v: f"{v:.8g}"},  # no padding to align columns: one line of values
        )
        text = f"array of shape {value.shape}, dtype {value.dtype}: {text}"
    else:
        text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mismatch_report(got, expected, *, op: str = "==", rtol=None, atol=None) -> str:
    """Expected and got, and for arrays of one shape the mismatched elements and the largest difference."""
    tolerance = f"Tolerance: rtol={rtol:g}, atol={atol:g}" if rtol is not None and atol is not None else ""
    g, e = _numeric_array(got), _numeric_array(expected)
    if op not in ("==", "close"):
        return f"Expected a value {op} {_show(expected)}\nGot: {_show(got)}"
    if g is None or e is None or (g.ndim == 0 and e.ndim == 0):
        lines = [f"Expected: {_show(expected)}", f"Got:      {_show(got)}"]
        return "\n".join([*lines, tolerance] if tolerance else lines)
    lines = [f"Expected: {_show(e)}", f"Got:      {_show(g)}"]
    if g.shape != e.shape:
        lines.append(f"Shapes differ: expected {e.shape}, got {g.shape}.")
    else:
        g, e = g.view(np.ndarray), e.view(np.ndarray)
        if op == "close":
            mismatched = ~np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
        else:
            mismatched = ~((g == e) | (np.isnan(g) & np.isnan(e)) if g.dtype.kind in "fc" else (g == e))
        count = int(np.count_nonzero(mismatched))
        lines.append(f"Mismatched elements: {count} / {mismatched.size} ({100 * count / max(mismatched.size, 1):.3g}%)")
        for index in np.argwhere(mismatched)[:3]:
            where = tuple(int(i) for i in index)
            lines.append(f"  at {where}: got {_show(g[where])}, expected {_show(e[where])}")
        if count and g.dtype.kind in "iufc" and e.dtype.kind in "iufc":
            with np.errstate(all="ignore"):
                difference = np.abs(g.astype(complex if "c" in g.dtype.kind + e.dtype.kind else float) - e)[mismatched]
            lines.append(f"Max absolute difference: {float(np.nanmax(difference)) if difference.size else 0:.6g}")
    if g.dtype != e.dtype:
        lines.append(f"Dtypes: expected {e.dtype}, got {g.dtype}.")
    if tolerance:
        lines.append(tolerance)
    return "\n".join(lines)


def _syncer(kernel: Kernel, namespace: dict) -> Callable[[str, str], None]:
    def sync(op: str, name: str) -> None:
        if op == "del":
            keep = f"{_KEEP_PREFIX}{next(_KEEP_COUNTER)}"
            kernel.call_helper("__mooc_delete", [name, keep])
            # Trusted-side references to the deleted function keep working under its new name.
            for value in list(namespace.values()):
                if isinstance(value, RemoteFunction) and value.name == name:
                    value.name = keep
            return
        value = namespace.get(name)
        if isinstance(value, RemoteFunction):
            kernel.call_helper("__mooc_alias", [name, value.name])
        else:
            kernel.call_helper("__mooc_set", [name, value])

    return sync


# ---------------------------------------------------------------------------------------------
# Comparing values and storing expected values as JSON.


def values_equal(actual: Any, expected: Any, *, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        try:
            a, e = np.asarray(actual), np.asarray(expected)
        except Exception:  # noqa: BLE001
            return False
        if a.shape != e.shape:
            return False
        if a.dtype.kind in "fc" or e.dtype.kind in "fc":
            try:
                return bool(np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True))
            except TypeError:
                return False
        return bool(np.array_equal(a, e))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)) and actual == expected
    if isinstance(expected, (int, float, np.number)) and isinstance(actual, (int, float, np.number)):
        if isinstance(expected, np.complexfloating) or isinstance(actual, np.complexfloating):
            # float() of a complex drops its imaginary part: 0.5+1000j is not 0.5.
            a, e = complex(actual), complex(expected)
            if cmath.isnan(a) and cmath.isnan(e):
                return True
            return cmath.isclose(a, e, rel_tol=rtol, abs_tol=atol)
        if isinstance(expected, (float, np.floating)) or isinstance(actual, (float, np.floating)):
            if math.isnan(float(expected)) and math.isnan(float(actual)):
                return True
            return math.isclose(float(actual), float(expected), rel_tol=rtol, abs_tol=atol)
        return int(actual) == int(expected)
    if isinstance(expected, (list, tuple)):
        return (
            type(actual) is type(expected)
            and len(actual) == len(expected)
            and all(values_equal(a, e, rtol=rtol, atol=atol) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(values_equal(actual[k], expected[k], rtol=rtol, atol=atol) for k in expected)
        )
    return type(actual) is type(expected) and actual == expected


def encode_value(value: Any) -> Any:
    """Plain data → JSON-storable (arrays as .npy in base64; tuples and non-finite floats tagged)."""
    if isinstance(value, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return {"__ndarray__": base64.b64encode(buffer.getvalue()).decode()}
    if isinstance(value, np.generic):
        return encode_value(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_value(v) for v in value]}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TransferError(f"cannot store a value of type {type(value).__name__}")


def decode_value(data: Any) -> Any:
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    if isinstance(data, dict):
        if "__ndarray__" in data:
            return np.load(io.BytesIO(base64.b64decode(data["__ndarray__"])), allow_pickle=False)
        if "__float__" in data:
            return float(data["__float__"])
        if "__tuple__" in data:
            return tuple(decode_value(v) for v in data["__tuple__"])
        if "__dict__" in data:
            return {decode_value(k): decode_value(v) for k, v in data["__dict__"]}
    return data


def describe_value(value: Any, limit: int = 200) -> str:
    """A short, safe description of a learner's value for feedback."""
    text = f"array of shape {value.shape}, dtype {value.dtype}" if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
