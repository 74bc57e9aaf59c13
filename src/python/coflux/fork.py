"""Fork template mode (our extension, negotiated; executor-protocol.md §12 "Extension point").

When the worker sets ``COFLUX_FORK_SOCKET`` to the path of a Unix stream socket it listens on,
``ready`` carries ``"fork": true``. A ``{"method": "fork", "params": {"count": N}}`` message then
turns the executor into a *template* that never runs an execution itself:

- For each ``fork`` message it forks ``N`` children. For each child it first connects two
  streams to the socket; the child announces itself on them — the first with ``hello``
  ``channel: "stderr"``, then moved onto fd 2, the second with ``channel: "protocol"``, then
  moved onto fds 0 and 1 — calls ``os.setsid()``, resets signal handling, takes over the
  template's ``sys.stdin``/``sys.stdout``/``sys.stderr`` (which wrap fds 0–2) and runs the
  ordinary executor protocol (``ready`` without ``fork``, one ``execute``, exit). Preloaded
  modules and remembered preload failures are inherited.
- It reaps children (``SIGCHLD`` wakes its ``select`` loop through a wakeup pipe, then
  ``waitpid(-1, WNOHANG)``) and reports ``{"method": "exited", "params": {"pid", "status"}}``
  on its stdout, ``status`` being the exit code or ``-signal``.
- At end of its stdin it exits 0; children keep running to completion.

A child ends as a freshly spawned executor would — waiting for non-daemon threads, running atexit
handlers (also those registered by preloaded modules) and flushing stdio — but skips the
interpreter's module teardown, which would cost several milliseconds per execution.

What a child costs is mostly the pages it writes: each one is copied from the template (a page
fault, then 4 KiB copied), and CPython writes to every object it touches (reference counts,
caches). So the child's path avoids code it can do without (``signal``'s enum wrappers, opening
new std streams, Python-level JSON), and before the first fork the template *rehearses* that
path: its functions are then specialised and the type cache filled, in the shared pages, which
the children then leave unwritten. For the same reason the template's own work per fork is kept
small: after each fork, its first write to any page copies it too. The template is
single-threaded (a process that forks must not have threads).
"""

from __future__ import annotations

import atexit
import codecs
import os
import select
import sys

import _signal  # the C module: ``signal``'s wrappers convert to and from enums on every call

from . import executor
from .protocol import Channel, ProtocolError, ProtocolFailure, decode_line, encode_message, write_all
from .target import Target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:  # the C module is enough to connect, and cheaper to import than ``socket``
    import _socket as _socketmodule
except ImportError:  # pragma: no cover
    import socket as _socketmodule  # type: ignore[no-redef]


def _ignore_signal(signum: int, frame: Any) -> None:
    """SIGCHLD needs a Python-level handler for the wakeup fd to be written."""


# Formatted rather than encoded, to keep work off both processes' per-fork paths.
_HELLO = b'{"method":"hello","params":{"pid":%d,"channel":"%s"}}\n'
_EXITED = b'{"method":"exited","params":{"pid":%d,"status":%d}}\n'
# CPython 3.11 specialises a function's bytecode once it has run eight times.
_REHEARSALS = 10


def _connect(path: str) -> int:
    """Connect one stream to the fork socket and return its descriptor."""
    sock = _socketmodule.socket(_socketmodule.AF_UNIX, _socketmodule.SOCK_STREAM)
    try:
        sock.connect(path)
        return sock.detach()
    except BaseException:
        sock.close()
        raise


class Template:
    """The template process: forks children on request and reports their exits."""

    def __init__(self, channel: Channel, socket_path: str, preload: executor.Preload) -> None:
        self.channel = channel
        self.socket_path = socket_path
        self.preload = preload
        self.children: set[int] = set()
        self._decoded: dict[bytes, dict[str, Any]] = {}
        self._stdio = _settle_stdio()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    def run(self, first: dict[str, Any]) -> int:
        """Handle ``first`` and every later message until end of input."""
        self._warn_about_threads()
        _rehearse(self.preload)
        _signal.set_wakeup_fd(self._wake_w)
        _signal.signal(_signal.SIGCHLD, _ignore_signal)
        self.handle(first)
        reader = self.channel.reader
        watched = [reader.fd, self._wake_r]
        while True:
            self.reap()
            line = reader.pending_line()
            if line is not None:
                if line.strip():
                    try:
                        self.handle(self._decode(line))
                    except ProtocolError as e:
                        print(f"coflux: template ignored a bad message: {e}", file=sys.stderr)
                continue
            if reader.eof:
                break
            readable, _, _ = select.select(watched, (), ())
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)  # a byte per signal; any left wakes select again
            if reader.fd in readable:
                reader.fill()
        self.reap()
        return 0

    def _decode(self, line: bytes) -> dict[str, Any]:
        """Decode a message, remembering a few: ``fork`` lines repeat (their counts run up to the
        worker's concurrency), and decoding one writes pages that were just shared by a fork."""
        message = self._decoded.get(line)
        if message is None:
            message = decode_line(line)
            if len(self._decoded) < 64:
                self._decoded[line] = message
        return message

    def handle(self, message: dict[str, Any]) -> None:
        """Act on one message from the worker (only ``fork`` is meaningful here)."""
        method = message.get("method")
        params = message.get("params") or {}
        count = params.get("count") if isinstance(params, dict) else None
        if method != "fork" or isinstance(count, bool) or not isinstance(count, int) or count < 0:
            print(f"coflux: template ignored message {method!r}", file=sys.stderr)
            return
        sys.stdout.flush()  # nothing buffered may be duplicated into the children
        sys.stderr.flush()
        for _ in range(count):
            try:
                self._fork()
            except OSError as e:
                print(f"coflux: fork failed: {e}", file=sys.stderr)
                return

    def _fork(self) -> None:
        """Connect a child's two streams, fork it, and close the template's copies.

        Connecting here rather than in the child costs the template little (its sockets are warm)
        and saves the child the pages its first socket would write."""
        err = _connect(self.socket_path)
        try:
            proto = _connect(self.socket_path)
            try:
                pid = os.fork()
                if pid == 0:
                    self._become_child(err, proto)  # never returns
            finally:
                os.close(proto)
        finally:
            os.close(err)
        self.children.add(pid)

    def reap(self) -> None:
        """Collect exited children and report each one."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.children:
                self.children.discard(pid)
                self._report_exit(pid, os.waitstatus_to_exitcode(status))

    def _report_exit(self, pid: int, status: int) -> None:
        try:
            write_all(self.channel.out_fd, _EXITED % (pid, status))
        except OSError as e:  # as Channel.send
            raise ProtocolFailure(f"cannot write to the worker: {e}") from None

    def _warn_about_threads(self) -> None:
        threading = sys.modules.get("threading")
        if threading is not None and threading.active_count() > 1:
            print(
                "coflux: warning: preloaded modules started threads; forked children will not have them",
                file=sys.stderr,
            )

    def _become_child(self, err: int, proto: int) -> None:
        """In the child: detach, announce itself, rebind stdio and run one execution; then exit."""
        status = 1
        try:
            status = self._child_main(err, proto)
        except SystemExit as e:
            status = _exit_status(e)
        except ProtocolFailure as e:
            print(f"coflux: protocol failure: {e}", file=sys.stderr)
        except BaseException:
            import traceback

            traceback.print_exc()
        _exit(status)

    def _child_main(self, err: int, proto: int) -> int:
        os.setsid()
        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        os.close(self._wake_r)
        os.close(self._wake_w)
        pid = os.getpid()
        write_all(err, _HELLO % (pid, b"stderr"))
        os.dup2(err, 2)
        write_all(proto, _HELLO % (pid, b"protocol"))
        os.dup2(proto, 0)
        os.dup2(proto, 1)
        os.close(err)
        os.close(proto)
        if self._stdio is not None:
            # the streams already wrap fds 0-2, which now lead to the worker
            sys.stdin, sys.stdout, sys.stderr = self._stdio
        else:
            sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)
            sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)
            sys.stderr = sys.__stderr__ = open(
                2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
            )
        return executor.serve(Channel(0, 1), self.preload)


def _echo(value: Any) -> Any:
    return value


_rehearsal = Target(_echo, "task", name="_rehearsal")


def _rehearse(preload: executor.Preload) -> None:
    """Run a child's protocol and execution path in the template (see the module docstring): an
    ``execute`` of our own target read from a pipe, ``ready`` and the result written to
    /dev/null."""
    out = os.open(os.devnull, os.O_WRONLY)
    try:
        line = encode_message({"method": "execute", "params": {
            "execution_id": "rehearsal", "module": __name__, "target": "_rehearsal",
            "arguments": [{"type": "inline", "format": "json", "value": 0}], "working_dir": os.getcwd(),
        }})
        for _ in range(_REHEARSALS):
            read_end, write_end = os.pipe()
            try:
                write_all(write_end, line)
            finally:
                os.close(write_end)
            try:
                executor.serve(Channel(read_end, out), preload)
            finally:
                os.close(read_end)
    except (Exception, ProtocolFailure):
        pass  # an optimisation only
    finally:
        os.close(out)


def _settle_stdio() -> tuple[Any, Any, Any] | None:
    """Configure the interpreter's own stdin/stdout/stderr as children need them (UTF-8; stderr
    line-buffered with ``backslashreplace``), once, so that each child reuses them instead of
    opening three new streams. ``None`` when they are not plain streams on fds 0-2."""
    streams = (sys.__stdin__, sys.__stdout__, sys.__stderr__)
    try:
        for fd, (stream, errors) in enumerate(zip(streams, ("strict", "strict", "backslashreplace"))):
            if stream is None or stream.fileno() != fd:
                return None
            if codecs.lookup(stream.encoding).name != "utf-8" or stream.errors != errors:
                stream.reconfigure(encoding="utf-8", errors=errors)
        if not streams[2].line_buffering:
            streams[2].reconfigure(line_buffering=True)
    except (AttributeError, OSError, ValueError, LookupError):
        return None
    return streams


def _exit_status(error: SystemExit) -> int:
    """The exit status the interpreter would use for an uncaught ``SystemExit``."""
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=sys.stderr)
    return 1


def _exit(status: int) -> None:
    """End a child as the interpreter would, minus the module teardown (several milliseconds per
    child): wait for non-daemon threads, run atexit handlers, flush stdio, then ``os._exit``.
    The template's frames below this one never resume."""
    threading = sys.modules.get("threading")
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        try:
            shutdown()
        except Exception:
            pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(status)


def run_template(channel: Channel, socket_path: str, first: dict[str, Any], preload: executor.Preload) -> int:
    """Turn this executor into a fork template (after a ``fork`` message)."""
    return Template(channel, socket_path, preload).run(first)
