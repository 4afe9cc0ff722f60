"""A sandbox session against the real engine: the happy path, then what a hostile notebook tries.

Each adversarial test checks three things: the outcome is reported (status/flags), the host side
returns promptly, and no container is left behind (the test_label fixture asserts that).
"""

import json
import math
import os
import time

import numpy as np
import pytest

from grading.sandbox import DataFrameData, SeriesData

from .conftest import containers_with

pytestmark = pytest.mark.docker


# --- happy path -----------------------------------------------------------------------------------
def test_cells_run_in_one_kernel_and_outputs_are_captured(start):
    with start() as s:
        r = s.run_cell("x = 1\nprint(x)\nimport sys\nprint('warn', file=sys.stderr)\nx + 41")
        assert r.status == "ok", r
        assert {"output_type": "stream", "name": "stdout", "text": "1\n"} in r.outputs
        assert any(o["output_type"] == "stream" and o["name"] == "stderr" and "warn" in o["text"] for o in r.outputs)
        result = [o for o in r.outputs if o["output_type"] == "execute_result"]
        assert result and result[0]["data"]["text/plain"] == "42"
        assert r.execution_count == 1
        r2 = s.run_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")
        assert r2.status == "ok", r2
        assert any("image/png" in o.get("data", {}) for o in r2.outputs)
        assert s.status == "ok" and not s.flags


def test_fetch_returns_plain_data_of_every_supported_type(start):
    with start() as s:
        r = s.run_cell(
            "import numpy as np, pandas as pd\n"
            "i, f, t, u = 7, 2.5, 'héllo ✓', (1, 'a')\n"
            "lst = [1, [2, 3], None, True]\n"
            "d = {'a': 1, 'b': [1.5, float('nan'), float('inf')], '__mooc__': 'kept'}\n"
            "arr = np.arange(12, dtype=np.int64).reshape(3, 4)\n"
            "farr = np.linspace(0, 1, 5, dtype=np.float32)\n"
            "sarr = np.array(['a', 'bc'])\n"
            "df = pd.DataFrame({'n': [1, 2], 'name': ['x', 'y']}, index=[10, 20])\n"
            "ser = pd.Series([0.5, 1.5], name='s')\n"
        )
        assert r.status == "ok", r
        assert s.fetch("i").value == 7
        assert s.fetch("i + 1").value == 8
        assert s.fetch("f").value == 2.5
        assert s.fetch("t").value == "héllo ✓"
        assert s.fetch("u").value == (1, "a")
        assert s.fetch("lst").value == [1, [2, 3], None, True]
        d = s.fetch("d").value
        assert d["a"] == 1 and d["__mooc__"] == "kept"
        assert d["b"][0] == 1.5 and math.isnan(d["b"][1]) and d["b"][2] == math.inf
        arr = s.fetch("arr").value
        assert isinstance(arr, np.ndarray) and arr.dtype == np.int64 and arr.shape == (3, 4)
        assert arr.sum() == 66
        farr = s.fetch("farr").value
        assert farr.dtype == np.float32 and farr[-1] == 1.0
        assert s.fetch("sarr").value.tolist() == ["a", "bc"]
        scalar = s.fetch("arr.sum()").value
        assert isinstance(scalar, np.integer) and scalar == 66
        assert s.fetch("None").ok and s.fetch("None").value is None
        df = s.fetch("df").value
        assert isinstance(df, DataFrameData)
        assert df.columns == ["n", "name"]
        assert df.column("n").tolist() == [1, 2] and df.column("name") == ["x", "y"]
        assert df.index.tolist() == [10, 20]
        ser = s.fetch("ser").value
        assert isinstance(ser, SeriesData) and ser.name == "s" and ser.values.tolist() == [0.5, 1.5]


def test_call_runs_the_learners_function_on_array_arguments(start):
    with start() as s:
        s.run_cell(
            "import numpy as np\n"
            "def squares(n):\n    return [k * k for k in range(n)]\n"
            "def scale(a, k=2):\n    print('scaling')\n    return a * k\n"
        )
        a = s.call("squares", args=[4])
        assert a.ok and a.value == [0, 1, 4, 9]
        b = s.call("scale", args=[np.arange(3, dtype=np.float64)], kwargs={"k": 3})
        assert b.ok, b
        assert b.value.tolist() == [0.0, 3.0, 6.0] and b.value.dtype == np.float64
        assert b.output == "scaling\n"
        c = s.call("scale", args=[np.eye(2)])
        assert c.value.tolist() == [[2.0, 0.0], [0.0, 2.0]]


def test_errors_in_learner_code_are_reported_not_raised(start):
    with start() as s:
        r = s.run_cell("def f(x):\n    return x + 'a'\n1 / 0")
        assert r.status == "error"
        assert r.ename == "ZeroDivisionError" and "division by zero" in r.evalue
        assert r.traceback and any(o["output_type"] == "error" for o in r.outputs)
        a = s.call("f", args=[1])
        assert not a.ok and a.error.startswith("TypeError: unsupported operand")
        assert s.fetch("undefined_name").error == "NameError: name 'undefined_name' is not defined"
        assert s.call("nope").error.startswith("NameError")
        assert s.fetch("1 +").error.startswith("SyntaxError")
        assert s.run_cell("y = 5").status == "ok"
        assert s.fetch("y").value == 5
        assert s.status == "ok"


def test_weird_unicode_in_a_cell_does_not_choke_the_session(start):
    with start() as s:
        r = s.run_cell(
            "# \ud800 lone surrogate, \u202e rtl, zero\u200bwidth, \U0001f600\ns = 'e\u0301 \u2603'\nprint(s)"
        )
        assert r.status == "ok", r
        assert r.outputs[0]["text"] == "e\u0301 \u2603\n"
        nul = s.run_cell("x = 1\x00")
        assert nul.status == "error" and nul.ename == "SyntaxError"
        assert s.fetch("s").value == "e\u0301 \u2603"


def test_container_stops_by_itself_when_the_host_goes_away(start, docker_client):
    s = start()
    s._stream.close()  # what a killed worker process amounts to: the attach socket closes
    container = docker_client.containers.get(s.container_id)
    deadline = time.monotonic() + 10
    while container.status != "exited" and time.monotonic() < deadline:
        time.sleep(0.2)
        container.reload()
    assert container.status == "exited"  # the reaper removes what is left
    s.close()


def test_container_runs_with_the_promised_restrictions(start, docker_client):
    with start() as s:
        hc = docker_client.api.inspect_container(s.container_id)["HostConfig"]
        assert hc["NetworkMode"] == "none"
        assert hc["ReadonlyRootfs"] is True
        assert hc["CapDrop"] == ["ALL"]
        assert "no-new-privileges" in hc["SecurityOpt"]
        assert hc["Memory"] == 256 * 1024 * 1024 and hc["PidsLimit"] == 64
        assert hc["NanoCpus"] == 1_000_000_000
        assert hc["LogConfig"]["Type"] == "none"
        assert docker_client.api.inspect_container(s.container_id)["Config"]["StdinOnce"] is True
        assert set(hc["Tmpfs"]) == {"/tmp", "/home/learner"}
        s.run_cell("import os")
        assert s.fetch("(os.getuid(), os.getgid())").value == (1000, 1000)
        probe = s.fetch("open('/proc/self/status').read()").value
        assert "CapEff:\t0000000000000000" in probe and "NoNewPrivs:\t1" in probe
        assert s.run_cell("open('/usr/evil', 'w')").ename == "OSError"  # read-only root


# --- adversarial ----------------------------------------------------------------------------------
def test_infinite_loop_is_interrupted_and_the_session_goes_on(start):
    with start(cell_timeout_s=2.0) as s:
        t0 = time.monotonic()
        r = s.run_cell("while True:\n    pass")
        assert r.status == "timeout"
        assert r.ename == "KeyboardInterrupt"
        assert time.monotonic() - t0 < 2.0 + 3.0
        assert "timeout" in s.flags and s.status == "ok"
        assert s.run_cell("z = 3").status == "ok"
        assert s.fetch("z").value == 3
        looping = s.run_cell("def spin():\n    while True:\n        pass")
        assert looping.status == "ok"
        a = s.call("spin")
        assert not a.ok and a.error.startswith("timeout")


def test_a_kernel_that_ignores_the_interrupt_ends_the_session(start, docker_client, test_label):
    with start(cell_timeout_s=2.0, interrupt_grace_s=1.0) as s:
        t0 = time.monotonic()
        r = s.run_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
        assert r.status == "timeout"
        assert time.monotonic() - t0 < 2.0 + 1.0 + 3.0
        assert s.status == "timeout" and "kernel_wedged" in s.flags
        assert s.run_cell("print(1)").status == "skipped"
        assert not containers_with(docker_client, test_label)  # removed as soon as it ended


def test_total_time_limit_stops_the_session(start):
    with start(cell_timeout_s=10.0, total_timeout_s=3.0) as s:
        assert s.run_cell("import time\ntime.sleep(2)").status == "ok"
        t0 = time.monotonic()
        r = s.run_cell("time.sleep(5)")
        assert r.status == "timeout" and time.monotonic() - t0 < 3.0
        assert s.run_cell("print(1)").status == "skipped"
        assert s.status == "timeout" and "total_timeout" in s.flags


def test_fork_bomb_hits_the_pids_limit(start):
    with start() as s:
        r = s.run_cell(
            "import os, time\n"
            "children = 0\n"
            "for _ in range(10_000):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        time.sleep(30)\n"
            "        os._exit(0)\n"
            "    children += 1\n"
        )
        assert r.status == "error" and r.ename == "BlockingIOError", r
        assert 10 < s.fetch("children").value < 64
        assert s.status == "ok"


def test_classic_fork_bomb_is_contained(start, docker_client, test_label):
    with start(cell_timeout_s=3.0, interrupt_grace_s=1.0) as s:
        t0 = time.monotonic()
        r = s.run_cell("import os\nwhile True:\n    os.fork()")
        assert r.status in {"error", "timeout", "died"}
        assert time.monotonic() - t0 < 3.0 + 1.0 + 12.0
    assert not containers_with(docker_client, test_label)


def test_memory_bomb_kills_the_kernel_and_is_reported_as_memory(start, docker_client, test_label):
    with start() as s:
        t0 = time.monotonic()
        r = s.run_cell("hog = []\nwhile True:\n    hog.append(bytearray(10 * 1024 * 1024))")
        assert r.status == "died", r
        assert s.status == "memory" and "memory" in s.flags
        assert time.monotonic() - t0 < 10
        assert s.fetch("1").error.startswith("session ended")
        assert not containers_with(docker_client, test_label)


def test_filling_the_tmpfs_gets_enospc_and_nothing_else(start):
    with start() as s:
        for path in ("/tmp/fill", "fill"):  # /tmp and the home directory (cwd)
            r = s.run_cell(f"with open({path!r}, 'wb') as fh:\n    while True:\n        fh.write(b'x' * (1 << 20))\n")
            assert r.status == "error" and r.ename == "OSError" and "No space left" in r.evalue, r
        assert s.run_cell("print('still fine')").outputs[0]["text"] == "still fine\n"


def test_network_is_unreachable_from_inside(start):
    with start() as s:
        s.run_cell(
            "import socket\n"
            "def probe(host, port):\n"
            "    try:\n"
            "        socket.create_connection((host, port), timeout=2).close()\n"
            "        return 'connected'\n"
            "    except OSError as exc:\n"
            "        return type(exc).__name__\n"
            "def resolve(name):\n"
            "    try:\n"
            "        return socket.getaddrinfo(name, 443)\n"
            "    except OSError as exc:\n"
            "        return type(exc).__name__\n"
        )
        # The host's PostgreSQL listens on 127.0.0.1:5432; the container's loopback is its own.
        assert s.call("probe", args=["127.0.0.1", 5432]).value == "ConnectionRefusedError"
        assert s.call("probe", args=["1.1.1.1", 443]).value in {"OSError", "TimeoutError"}
        assert s.call("resolve", args=["pypi.org"]).value == "gaierror"
        interfaces = s.fetch("sorted(line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:])")
        assert interfaces.value == ["lo"]


def test_output_flood_is_capped_quickly(start):
    with start(cell_timeout_s=30.0) as s:
        t0 = time.monotonic()
        r = s.run_cell("line = 'x' * 1_000_000\nfor _ in range(300):\n    print(line)")  # 300 MB
        elapsed = time.monotonic() - t0
        assert r.status == "ok", r
        assert r.truncated and "output_truncated" in s.flags
        assert len(json.dumps(r.outputs)) <= 200_000 + 1_000
        assert "output truncated" in r.outputs[-1]["text"]
        assert elapsed < 20, elapsed
        assert s.run_cell("print('after')").outputs == [{"output_type": "stream", "name": "stdout", "text": "after\n"}]


def test_os_exit_is_reported_as_died(start, docker_client, test_label):
    with start() as s:
        s.run_cell("x = 1")
        r = s.run_cell("import os\nos._exit(1)")
        assert r.status == "died"
        assert s.status == "died"
        assert s.run_cell("print(x)").status == "skipped"
        assert not containers_with(docker_client, test_label)


def test_segfault_is_reported_as_died(start):
    with start() as s:
        r = s.run_cell("import ctypes\nctypes.string_at(0)")
        assert r.status == "died"
        assert s.status == "died"


def test_nothing_of_the_host_is_visible(start):
    assert os.environ["MOOC_SANDBOX_TEST_HOST_SECRET"]
    with start() as s:
        s.run_cell("import os, socket")
        passwd = s.fetch("open('/etc/passwd').read()").value
        assert "learner:x:1000:1000" in passwd
        with open("/etc/passwd") as fh:
            host_only = {line.split(":")[0] for line in fh} - {line.split(":")[0] for line in passwd.splitlines()}
        assert host_only and not any(f"\n{name}:" in "\n" + passwd for name in host_only)
        env = s.fetch("dict(os.environ)").value
        assert "MOOC_SANDBOX_TEST_HOST_SECRET" not in env
        assert set(env) <= {
            "PATH",
            "HOME",
            "USER",
            "LANG",
            "PYTHONPATH",
            "PYTHONDONTWRITEBYTECODE",
            "PYTHONUNBUFFERED",
            "IPYTHONDIR",
            "JUPYTER_RUNTIME_DIR",
            "JUPYTER_CONFIG_DIR",
            "JUPYTER_DATA_DIR",
            "JUPYTER_PLATFORM_DIRS",
            "MPLCONFIGDIR",
            "XDG_CACHE_HOME",
            "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "JPY_PARENT_PID",
            "MPLBACKEND",
            "PYDEVD_USE_FRAME_EVAL",
            "TERM",
            "CLICOLOR",
            "PAGER",
            "GIT_PAGER",
            "FORCE_COLOR",
            "MOOC_OUTPUT_BYTES",
        }, env
        assert s.fetch("socket.gethostname()").value == "sandbox"
        with open("/etc/resolv.conf") as fh:
            host_dns = {line.strip() for line in fh if line.startswith("nameserver")} - {"nameserver 127.0.0.1"}
        resolv = s.fetch("open('/etc/resolv.conf').read()").value
        assert not any(line in resolv for line in host_dns)


def test_shell_escapes_are_disabled(start):
    with start() as s:
        r = s.run_cell("!ls /")
        text = "".join(o.get("text", "") for o in r.outputs)
        assert r.status == "ok" and "shell commands are disabled" in text and "bin" not in text
        r = s.run_cell("%%bash\nls /\n")
        assert "shell commands are disabled" in "".join(o.get("text", "") for o in r.outputs)
        r = s.run_cell("files = !ls /\nprint(len(files))")
        assert r.outputs[-1]["text"] == "0\n"


def test_fake_protocol_frames_from_the_notebook_are_harmless(start):
    with start() as s:
        fake = "MOOC1 " + "0" * 32 + " 2 0\\n{}"
        r = s.run_cell(
            f"print({fake!r}, flush=True)\n"
            "import os, sys\n"
            f"os.write(1, b{fake!r})\n"
            f"sys.__stdout__.write({fake!r})\n"
            "try:\n"
            "    open('/proc/1/fd/1', 'wb').write(b'MOOC1 forged 2 0\\n{}')\n"
            "    print('opened')\n"
            "except OSError as exc:\n"
            "    print(type(exc).__name__)\n"
        )
        assert r.status == "ok", r
        text = "".join(o.get("text", "") for o in r.outputs)
        assert "PermissionError" in text and "opened" not in text
        assert s.fetch("40 + 2").value == 42
        assert s.status == "ok" and "protocol_violation" not in s.flags


def test_the_notebook_cannot_touch_the_agent(start):
    with start() as s:
        r = s.run_cell(
            "import os, signal\n"
            "for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):\n"
            "    os.kill(1, sig)\n"
            "def attempt(fn):\n"
            "    try:\n"
            "        fn()\n"
            "        return 'allowed'\n"
            "    except OSError as exc:\n"
            "        return type(exc).__name__\n"
        )
        assert r.status == "ok", r
        assert s.call("attempt", args=[]).ok is False  # positional arg missing: a learner error
        s.run_cell(
            "probes = [attempt(lambda: os.listdir('/proc/1/fd')), attempt(lambda: open('/proc/1/environ').read())]"
        )
        assert s.fetch("probes").value == ["PermissionError", "PermissionError"]
        assert s.fetch("1 + 1").value == 2 and s.status == "ok"


def test_hostile_answers_are_clean_errors(start):
    with start() as s:
        s.run_cell(
            "import numpy as np\n"
            "class Weird:\n"
            "    def __repr__(self):\n        raise RuntimeError('no repr')\n"
            "    def __eq__(self, other):\n        return True\n"
            "    __hash__ = None\n"
            "class Sneaky(int):\n    pass\n"
            "nested = []\n"
            "for _ in range(1000):\n    nested = [nested]\n"
            "loop = []\nloop.append(loop)\n"
            "big = list(range(3_000_000))\n"
        )
        assert s.fetch("Weird()").error == "cannot transfer Weird"
        assert s.fetch("[1, Weird()]").error == "cannot transfer Weird"
        assert s.fetch("Sneaky(3)").error == "cannot transfer Sneaky"
        assert s.fetch("len").error == "cannot transfer builtin_function_or_method"
        assert s.fetch("np.array([object()])").error == "cannot transfer ndarray of dtype object"
        assert s.fetch("{1: 'a'}").error == "cannot transfer dict with int key"
        assert "nesting deeper than 64" in s.fetch("nested").error
        assert "nesting deeper than 64" in s.fetch("loop").error
        t0 = time.monotonic()
        assert s.fetch("big").error == "cannot transfer: answer larger than 2000000 bytes"
        assert s.fetch("np.zeros(10**6)").error.startswith("cannot transfer: answer larger than")
        assert time.monotonic() - t0 < 10
        assert s.fetch("len(big)").value == 3_000_000
        assert s.status == "ok"


def test_a_tampered_encoder_cannot_get_past_the_host_decoder(start):
    with start() as s:
        r = s.run_cell(
            "import mooc_kernel_ext as m, io, numpy as np\n"
            "def forge(value_json, blobs=()):\n"
            "    m._reply_value = lambda token, produce, budget, depth: m._send_answer(\n"
            "        token, {'ok': True, 'value_json': value_json}, list(blobs))\n"
            "hdr = \"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }\"\n"
            "hdr = hdr.encode() + b' ' * (63 - (10 + len(hdr)) % 64) + b'\\n'\n"
            "bad_npy = b'\\x93NUMPY\\x01\\x00' + len(hdr).to_bytes(2, 'little') + hdr + bytes(8)\n"
        )
        assert r.status == "ok", r
        s.run_cell("forge('[' * 100000 + ']' * 100000)")
        assert "nesting" in s.fetch("1").error
        s.run_cell('forge(\'{"__mooc__": "ndarray", "blob": 0}\', [bad_npy])')
        assert s.fetch("1").error.startswith("cannot transfer: array")
        s.run_cell('forge(\'{"__mooc__": "pickle"}\')')
        assert s.fetch("1").error == "cannot transfer: malformed answer"
        assert s.status == "ok"
