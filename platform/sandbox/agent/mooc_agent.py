"""Grading sandbox agent: PID 1 of every sandbox container.

It starts one IPython kernel (ipykernel, over loopback ZMQ inside the container's empty network
namespace) and serves the trusted host over the container's attached stdin/stdout with framed JSON:

    MOOC1 <nonce> <json_len> <blob_len>\\n<json bytes><blob bytes>

The host picks a random nonce per session and sends it in the first frame (``hello``); every frame
the agent writes carries it, so stray bytes on the channel are detected as a protocol violation.
The channel is private to this process: the kernel runs with stdin/stdout/stderr on /dev/null, in
its own session, without our descriptors, and this process makes itself non-dumpable so that the
kernel (same uid, no capabilities) cannot open /proc/1/fd/1 to write into the channel. That is
defence in depth, not the security boundary: a kernel that did manage to forge frames could only
send plain data, because the container never holds expected values, hidden tests or pass/fail
decisions; the host decodes every answer strictly and compares it outside.

Why not tini: tini would hold the same stdout pipe in a dumpable process. The agent reaps orphaned
children itself (as PID 1 must) and ignores SIGINT/SIGTERM from inside the container.

Operations (request ``op`` -> response fields):
  hello  {limits}                       -> {ok, python, kernel_start_s} | {ok: false, error}
  run    {code, timeout_s, output_bytes} -> {status: ok|error|timeout|died, outputs, truncated,
                                            ename, evalue, traceback, duration_s, kernel, oom}
  fetch  {expr, timeout_s, answer_bytes, depth}
  call   {name, args_json, blobs_b64, timeout_s, answer_bytes, depth}
                                         -> {status, answer_ok, value_json, error, blobs, output, ...}
  ping                                   -> {ok, kernel}
  bye                                    -> the agent stops the kernel and exits
Per-cell timeout: interrupt (SIGINT to the kernel's process group); if the kernel does not become
idle within the grace period it is declared wedged and killed. A dead kernel is not restarted: the
notebook's state is gone, so the host ends the session.
"""

import base64
import ctypes
import json
import os
import queue
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time

MAGIC = b"MOOC1"
HEADER_MAX = 128
ANSWER_MSG_TYPE = "mooc_answer"
ERROR_TEXT_CAP = 64 * 1024
CALL_OUTPUT_CAP = 64 * 1024
STATE = "/tmp/.mooc"  # noqa: S108 - the container's private tmpfs, created 0700
OPT = "/opt/mooc"


def log(msg):
    try:
        os.write(2, (f"mooc-agent: {msg}\n").encode("utf-8", "replace"))
    except OSError:
        pass


# --- framing ------------------------------------------------------------------------------------
class Channel:
    def __init__(self, fd_in, fd_out):
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.buf = bytearray()
        self.nonce = None

    def send(self, obj, blobs=()):
        body = json.dumps(obj, ensure_ascii=True, allow_nan=True, separators=(",", ":")).encode("ascii")
        blob_len = sum(len(b) for b in blobs)
        header = b"%s %s %d %d\n" % (MAGIC, self.nonce, len(body), blob_len)
        for part in (header, body, *blobs):
            view = memoryview(part)
            while view:
                n = os.write(self.fd_out, view)
                view = view[n:]

    def _fill(self, timeout):
        r, _, _ = select.select([self.fd_in], [], [], timeout)
        if not r:
            return False
        data = os.read(self.fd_in, 1 << 20)
        if not data:
            raise EOFError("host closed the channel")
        self.buf += data
        return True

    def recv(self, max_bytes, idle):
        """Read one frame; call idle() about once a second while waiting."""
        while b"\n" not in self.buf[:HEADER_MAX]:
            if len(self.buf) >= HEADER_MAX:
                raise ValueError("bad frame header")
            if not self._fill(1.0):
                idle()
        end = self.buf.index(b"\n")
        parts = bytes(self.buf[:end]).split(b" ")
        if len(parts) != 4 or parts[0] != MAGIC:
            raise ValueError("bad frame header")
        if self.nonce is None:
            self.nonce = parts[1]
        elif parts[1] != self.nonce:
            raise ValueError("bad nonce")
        jlen, blen = int(parts[2]), int(parts[3])
        if jlen < 0 or blen < 0 or jlen + blen > max_bytes:
            raise ValueError("frame too large")
        del self.buf[: end + 1]
        while len(self.buf) < jlen + blen:
            if not self._fill(1.0):
                idle()
        body = bytes(self.buf[:jlen])
        blob = bytes(self.buf[jlen : jlen + blen])
        del self.buf[: jlen + blen]
        return json.loads(body), blob


# --- output collection --------------------------------------------------------------------------
def _jlen(obj):
    return len(json.dumps(obj, ensure_ascii=True))


def _cap_text(text, limit):
    """The longest prefix of text whose JSON encoding fits in limit bytes."""
    if limit <= 2:
        return ""
    cut = text[:limit]
    while cut and _jlen(cut) > limit:
        cut = cut[: max(0, len(cut) * limit // _jlen(cut) - 1)]
    return cut


def _cap_traceback(lines):
    out, total = [], 0
    for line in lines if isinstance(lines, list) else []:
        line = str(line)
        if total + len(line) > ERROR_TEXT_CAP:
            out.append("[grader] traceback truncated")
            break
        out.append(line)
        total += len(line)
    return out


class Collector:
    """Turns IOPub messages into nbformat v4 outputs, within a byte budget."""

    def __init__(self, budget):
        self.budget = budget
        self.used = 0
        self.outputs = []
        self.truncated = False
        self.error = None

    def _add(self, out):
        size = _jlen(out)
        if self.used + size <= self.budget:
            self.outputs.append(out)
            self.used += size
            return
        if out["output_type"] == "stream":
            room = self.budget - self.used - 200
            text = _cap_text(out["text"], room)
            if text:
                self._merge_stream(out["name"], text)
                self.used += _jlen(text)
        self._truncate()

    def _truncate(self):
        if not self.truncated:
            self.truncated = True
            self.outputs.append(
                {
                    "output_type": "stream",
                    "name": "stderr",
                    "text": f"\n[grader] output truncated at {self.budget} bytes\n",
                }
            )

    def _merge_stream(self, name, text):
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def handle(self, msg_type, content):
        if msg_type == "error":
            err = {
                "output_type": "error",
                "ename": str(content.get("ename", ""))[:1000],
                "evalue": _cap_text(str(content.get("evalue", "")), ERROR_TEXT_CAP),
                "traceback": _cap_traceback(content.get("traceback", [])),
            }
            self.error = err
            self.outputs.append(err)  # errors are always kept (each is capped)
            return
        if self.truncated:
            return
        if msg_type == "stream":
            name = "stderr" if content.get("name") == "stderr" else "stdout"
            text = str(content.get("text", ""))
            size = _jlen(text)
            if self.used + size <= self.budget:
                self._merge_stream(name, text)
                self.used += size
            else:
                self._add({"output_type": "stream", "name": name, "text": text})
        elif msg_type in ("display_data", "execute_result"):
            out = {"output_type": msg_type, "data": content.get("data", {}), "metadata": content.get("metadata", {})}
            if msg_type == "execute_result":
                out["execution_count"] = content.get("execution_count")
            self._add(out)
        elif msg_type == "clear_output":
            self.outputs = [o for o in self.outputs if o["output_type"] == "error"]
            self.used = sum(_jlen(o) for o in self.outputs)


# --- the kernel ---------------------------------------------------------------------------------
def _oom_kills():
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
    return None


def _kernel_preexec():
    # The learner's kernel, and anything it forks, is what the OOM killer should take first.
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


class Kernel:
    def __init__(self, cpus, output_bytes):
        self.output_bytes = int(output_bytes)
        self.proc = None
        self.kc = None
        self.dead = False
        self.wedged = False
        self.oom_at_start = None
        self.cpus = cpus

    def _env(self):
        home = os.environ.get("HOME", "/home/learner")
        threads = str(max(1, int(self.cpus + 0.999)))
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "USER": "learner",
            "LANG": "C.UTF-8",
            "PYTHONPATH": OPT,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "IPYTHONDIR": STATE + "/ipython",
            "JUPYTER_RUNTIME_DIR": STATE + "/runtime",
            "JUPYTER_CONFIG_DIR": STATE + "/jupyter",
            "JUPYTER_DATA_DIR": STATE + "/jupyter-data",
            "JUPYTER_PLATFORM_DIRS": "1",
            "MPLCONFIGDIR": STATE + "/mpl",
            "XDG_CACHE_HOME": STATE + "/cache",
            # BLAS/OpenMP pools would otherwise size themselves to the host's cores and eat pids.
            "OPENBLAS_NUM_THREADS": threads,
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "JPY_PARENT_PID": str(os.getpid()),
            "MOOC_OUTPUT_BYTES": str(self.output_bytes),
        }

    def start(self, timeout):
        from jupyter_client.blocking import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        for sub in ("ipython", "runtime", "jupyter", "jupyter-data", "cache"):
            os.makedirs(os.path.join(STATE, sub), mode=0o700, exist_ok=True)
        if os.path.isdir(OPT + "/mplconfig") and not os.path.isdir(STATE + "/mpl"):
            shutil.copytree(OPT + "/mplconfig", STATE + "/mpl")
        conn_file = os.path.join(STATE, "runtime", f"kernel-{secrets.token_hex(4)}.json")
        write_connection_file(conn_file, ip="127.0.0.1", key=secrets.token_hex(32).encode())
        self.oom_at_start = _oom_kills()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ipykernel_launcher",
                "-f",
                conn_file,
                "--config=" + OPT + "/ipython_kernel_config.py",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self._env(),
            cwd=os.environ.get("HOME", "/home/learner"),
            start_new_session=True,
            close_fds=True,
            preexec_fn=_kernel_preexec,
        )
        kc = BlockingKernelClient(connection_file=conn_file)
        kc.load_connection_file()
        kc.start_channels()
        self.kc = kc
        deadline = time.monotonic() + timeout
        # Ready means: shell answers AND our IOPub subscription receives (ZMQ slow joiner).
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kernel exited during start with code {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"kernel did not become ready within {timeout:.0f}s")
            msg_id = kc.kernel_info()
            got_reply = got_status = False
            inner = time.monotonic() + 1.0
            while time.monotonic() < inner and not (got_reply and got_status):
                try:
                    msg = kc.get_iopub_msg(timeout=0.05)
                    if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status":
                        got_status = True
                except queue.Empty:
                    pass
                try:
                    msg = kc.get_shell_msg(timeout=0.01)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        got_reply = True
                except queue.Empty:
                    pass
            if got_reply and got_status:
                break
        # First execution pays IPython's lazy set-up; do it now rather than in the learner's cell.
        self.execute("pass", 30.0, Collector(1 << 16), store_history=False, grace=1.0)

    def _signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(self.proc.pid, sig)
            except OSError:
                pass

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.dead = True

    def death_info(self):
        oom = False
        now = _oom_kills()
        if now is not None and self.oom_at_start is not None and now > self.oom_at_start:
            oom = True
        return {"oom": oom, "exit": self.proc.returncode if self.proc else None}

    def _drain(self):
        for get in (self.kc.get_iopub_msg, self.kc.get_shell_msg):
            while True:
                try:
                    get(timeout=0)
                except queue.Empty:
                    break

    def execute(self, code, timeout, collector, store_history=True, grace=3.0, token=None):
        """Run code; returns a dict with status, duration, execution count, answer (if token)."""
        if self.dead:
            return {"status": "died", "duration_s": 0.0, "answer": None}
        self._drain()
        t0 = time.monotonic()
        msg_id = self.kc.execute(
            code, silent=False, store_history=store_history, allow_stdin=False, stop_on_error=False
        )
        deadline = t0 + timeout
        interrupted = False
        idle = False
        reply = None
        answer = None
        while not idle:
            now = time.monotonic()
            if now >= deadline:
                if not interrupted:
                    interrupted = True
                    self._signal(signal.SIGINT)
                    deadline = now + grace
                    continue
                self.wedged = True
                self.kill()
                return {"status": "timeout", "duration_s": time.monotonic() - t0, "answer": None}
            try:
                msg = self.kc.get_iopub_msg(timeout=min(0.2, deadline - now))
            except queue.Empty:
                if self.proc.poll() is not None:
                    self.dead = True
                    return {"status": "died", "duration_s": time.monotonic() - t0, "answer": None}
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            mtype, content = msg["msg_type"], msg["content"]
            if mtype == "status":
                idle = content.get("execution_state") == "idle"
            elif mtype == ANSWER_MSG_TYPE:
                if token is not None and content.get("token") == token and answer is None:
                    answer = (content, [bytes(b) for b in msg.get("buffers") or []])
            else:
                collector.handle(mtype, content)
        # ipykernel sends the reply before going idle, so it is already queued (or the kernel died,
        # or its handler crashed without replying: then don't wait long).
        reply_deadline = time.monotonic() + 1.0
        while reply is None and time.monotonic() < reply_deadline:
            try:
                msg = self.kc.get_shell_msg(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg["content"]
        duration = time.monotonic() - t0
        if reply is None:
            if self.proc.poll() is not None:
                self.dead = True
                return {"status": "died", "duration_s": duration, "answer": answer}
            reply = {"status": "error", "ename": "GraderError", "evalue": "no execute reply"}
        status = "timeout" if interrupted else "ok" if reply.get("status") == "ok" else "error"
        return {
            "status": status,
            "duration_s": duration,
            "answer": answer,
            "execution_count": reply.get("execution_count"),
            "reply_ename": reply.get("ename"),
            "reply_evalue": reply.get("evalue"),
        }


# --- the agent ----------------------------------------------------------------------------------
class Agent:
    def __init__(self, channel):
        self.ch = channel
        self.kernel = None
        self.limits = {}

    def reap(self):
        """As PID 1, collect orphaned zombies (but leave the kernel's status to Popen)."""
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            if self.kernel is not None and self.kernel.proc is not None and info.si_pid == self.kernel.proc.pid:
                if self.kernel.proc.poll() is None:
                    return
                continue
            try:
                os.waitpid(info.si_pid, os.WNOHANG)
            except ChildProcessError:
                return

    def _kernel_state(self):
        k = self.kernel
        if k is None:
            return "none"
        if k.wedged:
            return "wedged"
        if k.dead or k.proc.poll() is not None:
            k.dead = True
            return "dead"
        return "alive"

    def _result_common(self, res):
        state = self._kernel_state()
        out = {"status": res["status"], "duration_s": round(res["duration_s"], 4), "kernel": state}
        if state in ("dead", "wedged"):
            out.update(self.kernel.death_info())
        return out

    def op_hello(self, req, blob):
        self.limits = req.get("limits", {})
        t0 = time.monotonic()
        self.kernel = Kernel(float(self.limits.get("cpus", 1.0)), int(self.limits.get("output_bytes", 1_000_000)))
        try:
            self.kernel.start(float(self.limits.get("start_timeout_s", 60)))
        except Exception as exc:  # noqa: BLE001 - reported to the host as an infrastructure failure
            log(f"kernel start failed: {exc!r}")
            self.kernel.kill()
            return {"ok": False, "error": f"kernel start failed: {exc}"}
        return {"ok": True, "python": sys.version.split()[0], "kernel_start_s": round(time.monotonic() - t0, 3)}

    def op_ping(self, req, blob):
        return {"ok": True, "kernel": self._kernel_state()}

    def op_run(self, req, blob):
        code = str(req.get("code", ""))
        # Lone surrogates (legal in notebook JSON, not in UTF-8) would break the kernel's encoder.
        code = code.encode("utf-8", "replace").decode("utf-8")
        col = Collector(int(req.get("output_bytes", 1_000_000)))
        if "\x00" in code:
            # Python refuses such source outright; ipykernel's handler crashes on it without a reply.
            col.handle(
                "error",
                {
                    "ename": "SyntaxError",
                    "evalue": "source code cannot contain null bytes",
                    "traceback": ["SyntaxError: source code cannot contain null bytes"],
                },
            )
            return dict(
                self._result_common({"status": "error", "duration_s": 0.0}),
                outputs=col.outputs,
                truncated=False,
                execution_count=None,
                ename="SyntaxError",
                evalue="source code cannot contain null bytes",
                traceback=col.error["traceback"],
            )
        res = self.kernel.execute(
            code, float(req["timeout_s"]), col, grace=float(self.limits.get("interrupt_grace_s", 3.0))
        )
        out = self._result_common(res)
        err = col.error
        if err is None and res["status"] in ("error", "timeout") and res.get("reply_ename"):
            err = {"ename": str(res["reply_ename"]), "evalue": str(res.get("reply_evalue") or ""), "traceback": []}
        out.update(
            {
                "outputs": col.outputs,
                "truncated": col.truncated,
                "execution_count": res.get("execution_count"),
                "ename": err["ename"] if err else None,
                "evalue": err["evalue"] if err else None,
                "traceback": err["traceback"] if err else [],
            }
        )
        return out

    def _value_op(self, req, code, token):
        col = Collector(CALL_OUTPUT_CAP)
        res = self.kernel.execute(
            code,
            float(req["timeout_s"]),
            col,
            store_history=False,
            grace=float(self.limits.get("interrupt_grace_s", 3.0)),
            token=token,
        )
        out = self._result_common(res)
        out["output"] = "".join(o["text"] for o in col.outputs if o["output_type"] == "stream")
        blobs = []
        answer = res.get("answer")
        if answer is not None:
            content, buffers = answer
            cap = int(req.get("answer_bytes", 16_000_000))
            if content.get("ok") is True:
                value_json = str(content.get("value_json", ""))
                if len(value_json) + sum(len(b) for b in buffers) > cap:
                    out.update({"answer_ok": False, "error": f"cannot transfer: answer larger than {cap} bytes"})
                else:
                    out.update({"answer_ok": True, "value_json": value_json, "blobs": [len(b) for b in buffers]})
                    blobs = buffers
            else:
                out.update({"answer_ok": False, "error": _cap_text(str(content.get("error", "")), 4096)})
        else:
            err = col.error
            if err is not None:
                msg = "{}: {}".format(err["ename"], err["evalue"])
            elif res.get("reply_ename"):
                msg = "{}: {}".format(res["reply_ename"], res.get("reply_evalue") or "")
            else:
                msg = "no answer (kernel {})".format(out["kernel"]) if res["status"] == "ok" else "no answer"
            out.update({"answer_ok": False, "error": _cap_text(msg, 4096)})
        return out, blobs

    def op_fetch(self, req, blob):
        token = secrets.token_hex(8)
        expr = str(req["expr"])
        budget, depth = int(req.get("answer_bytes", 16_000_000)), int(req.get("depth", 64))
        code = f"__import__('mooc_kernel_ext').fetch({token!r}, {expr!r}, {budget}, {depth})"
        return self._value_op(req, code, token)

    def op_call(self, req, blob):
        token = secrets.token_hex(8)
        # Arguments arrive as base64 text (the host never writes raw binary to the attached stdin).
        parts = [str(b) for b in req.get("blobs_b64", [])]
        for part in parts:
            base64.b64decode(part, validate=True)
        name, args_json = str(req["name"]), str(req["args_json"])
        budget, depth = int(req.get("answer_bytes", 16_000_000)), int(req.get("depth", 64))
        code = f"__import__('mooc_kernel_ext').call({token!r}, {name!r}, {args_json!r}, {parts!r}, {budget}, {depth})"
        return self._value_op(req, code, token)

    def serve(self):
        max_req = 1 << 20
        while True:
            try:
                req, blob = self.ch.recv(max_req, self.reap)
            except EOFError:
                return
            op = req.get("op")
            handler = getattr(self, "op_" + str(op), None) if op != "bye" else None
            if op == "bye":
                self.ch.send({"ok": True})
                return
            if handler is None:
                self.ch.send({"ok": False, "error": f"unknown op {op!r}"})
                continue
            if op != "hello" and self.kernel is None:
                self.ch.send({"ok": False, "error": "no hello yet"})
                continue
            try:
                result = handler(req, blob)
            except Exception as exc:  # noqa: BLE001 - one bad request must not take the agent down
                log(f"op {op} failed: {exc!r}")
                result = {
                    "ok": False,
                    "error": f"agent error in {op}: {type(exc).__name__}: {exc}",
                    "kernel": self._kernel_state(),
                }
            if isinstance(result, tuple):
                self.ch.send(*result)
            else:
                self.ch.send(result)
            if op == "hello":
                max_req = int(self.limits.get("answer_bytes", 16_000_000)) * 2 + (4 << 20)
            self.reap()


def main():
    # Non-dumpable: /proc/1/* becomes root-owned, so the kernel cannot open our stdout through it.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception as exc:  # noqa: BLE001 - hardening only; the agent works without it
        log(f"prctl failed: {exc!r}")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Keep the protocol on private descriptors; anything that prints to fd 1 by mistake
    # (a library warning, say) goes to /dev/null instead of corrupting the channel.
    fd_in, fd_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    os.umask(0o077)
    agent = Agent(Channel(fd_in, fd_out))
    try:
        agent.serve()
    except Exception as exc:  # noqa: BLE001 - PID 1: log, clean up, exit
        log(f"fatal: {exc!r}")
    finally:
        if agent.kernel is not None:
            agent.kernel.kill()
    os._exit(0)


if __name__ == "__main__":
    main()
