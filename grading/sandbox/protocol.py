"""Host side of the framed channel to the in-container agent (platform/sandbox/agent/mooc_agent.py).

Bytes travel over the container's attached stdin/stdout. Docker multiplexes a non-TTY container's
stdout and stderr on the attach socket in 8-byte-header chunks; :class:`AttachedStream` undoes that,
keeps only the tail of stderr (agent diagnostics) and reads agent frames:

    MOOC1 <nonce> <json_len> <blob_len>\\n<json bytes><blob bytes>

Every read is bounded in time (a deadline) and in size (a cap given per frame): a frame that does
not start with the magic and this session's nonce, claims more bytes than the cap, or is not a JSON
object raises :class:`ProtocolViolation`, and the session is ended. Frames the host writes are pure
ASCII JSON with no blob part, so no byte on stdin can be mistaken for a detach key sequence.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time

MAGIC = b"MOOC1"
HEADER_MAX = 128
STDERR_KEEP = 16 * 1024


class ProtocolViolation(Exception):
    """The channel carried bytes that are not a well-formed frame of this session."""


class ChannelClosed(Exception):
    """The container closed its end (the agent exited or the container died)."""


class ChannelTimeout(Exception):
    """No complete frame arrived before the deadline."""


def encode_frame(nonce: str, obj: dict) -> bytes:
    body = json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
    return b"%s %s %d 0\n" % (MAGIC, nonce.encode("ascii"), len(body)) + body


class AttachedStream:
    """A docker attach socket (stdin + multiplexed stdout/stderr) with deadlines and caps."""

    def __init__(self, sock):
        # docker-py hands back a SocketIO for unix sockets; the real socket is underneath.
        self._sock = getattr(sock, "_sock", sock)
        self._keepalive = sock
        self._out = bytearray()
        self._err = bytearray()
        self._hdr = bytearray()
        self._chunk_left = 0
        self._chunk_stream = 1
        self.closed = False

    # -- raw I/O ----------------------------------------------------------------------------------
    def send(self, data: bytes, deadline: float) -> None:
        self._sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            self._sock.sendall(data)
        except TimeoutError as exc:
            raise ChannelTimeout("timed out writing to the sandbox") from exc
        except OSError as exc:
            raise ChannelClosed(f"sandbox channel closed while writing: {exc}") from exc

    def _recv(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ChannelTimeout("no answer from the sandbox in time")
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(1 << 20)
        except TimeoutError as exc:
            raise ChannelTimeout("no answer from the sandbox in time") from exc
        except OSError as exc:
            raise ChannelClosed(f"sandbox channel failed: {exc}") from exc
        if not data:
            raise ChannelClosed("sandbox closed the channel")
        self._demux(memoryview(data))

    def _demux(self, data: memoryview) -> None:
        while data:
            if self._chunk_left == 0:
                need = 8 - len(self._hdr)
                self._hdr += data[:need]
                data = data[need:]
                if len(self._hdr) < 8:
                    return
                stream, size = self._hdr[0], struct.unpack(">I", self._hdr[4:8])[0]
                if stream not in (1, 2) or any(self._hdr[1:4]):
                    raise ProtocolViolation("malformed docker stream header")
                self._hdr.clear()
                self._chunk_stream, self._chunk_left = stream, size
                continue
            take = data[: self._chunk_left]
            data = data[len(take) :]
            self._chunk_left -= len(take)
            if self._chunk_stream == 1:
                self._out += take
            else:
                self._err += take
                if len(self._err) > STDERR_KEEP:
                    del self._err[: len(self._err) - STDERR_KEEP]

    # -- frames -----------------------------------------------------------------------------------
    def pending_stdout(self) -> int:
        return len(self._out)

    def read_frame(self, nonce: str, max_bytes: int, deadline: float) -> tuple[dict, bytes]:
        prefix = MAGIC + b" " + nonce.encode("ascii") + b" "
        while True:
            head = bytes(self._out[:HEADER_MAX])
            if head[: len(prefix)] != prefix[: len(head)]:
                raise ProtocolViolation(f"unexpected bytes on the channel: {head[:40]!r}")
            if b"\n" in head:
                break
            if len(head) >= HEADER_MAX:
                raise ProtocolViolation("frame header too long")
            self._recv(deadline)
        end = self._out.index(b"\n")
        fields = bytes(self._out[len(prefix) : end]).split(b" ")
        if len(fields) != 2 or not all(f.isdigit() and len(f) <= 12 for f in fields):
            raise ProtocolViolation("malformed frame header")
        jlen, blen = int(fields[0]), int(fields[1])
        if jlen + blen > max_bytes:
            raise ProtocolViolation(f"frame of {jlen + blen} bytes exceeds the {max_bytes}-byte cap")
        del self._out[: end + 1]
        while len(self._out) < jlen + blen:
            self._recv(deadline)
        body = bytes(self._out[:jlen])
        blob = bytes(self._out[jlen : jlen + blen])
        del self._out[: jlen + blen]
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ProtocolViolation("frame body is not JSON") from exc
        if not isinstance(obj, dict):
            raise ProtocolViolation("frame body is not a JSON object")
        return obj, blob

    def stderr_tail(self) -> str:
        return bytes(self._err).decode("utf-8", "replace")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # shutdown() first: docker-py's HTTP response still holds a reference to the descriptor, so
        # close() alone would leave the connection open (and the agent would never see EOF).
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        for obj in (self._sock, self._keepalive):
            try:
                obj.close()
            except OSError:
                pass
