"""Fork template mode (our extension, negotiated; executor-protocol.md §12 "Extension point").

When the worker sets ``COFLUX_FORK_SOCKET`` to the path of a Unix stream socket it listens on,
``ready`` carries ``"fork": true``. A ``{"method": "fork", "params": {"count": N}}`` message then
turns the executor into a *template* that never runs an execution itself:

- For each ``fork`` message it forks ``N`` children. Each child calls ``os.setsid()``, connects
  two streams to the socket — the first announced with ``hello`` ``channel: "stderr"`` and
  moved onto fd 2, the second with ``channel: "protocol"`` and moved onto fds 0 and 1 — rebinds
  ``sys.stdin``/``sys.stdout``/``sys.stderr``, resets signal handling and runs the ordinary
  executor protocol (``ready`` without ``fork``, one ``execute``, exit). Preloaded modules and
  remembered preload failures are inherited.
- It reaps children (``SIGCHLD`` wakes its ``select`` loop through a wakeup pipe, then
  ``waitpid(-1, WNOHANG)``) and reports ``{"method": "exited", "params": {"pid", "status"}}``
  on its stdout, ``status`` being the exit code or ``-signal``.
- At end of its stdin it exits 0; children keep running to completion.

A child ends as a freshly spawned executor would — waiting for non-daemon threads, running atexit
handlers (also those registered by preloaded modules) and flushing stdio — but skips the
interpreter's module teardown, which would cost several milliseconds per execution.

The template is single-threaded (a process that forks must not have threads); the child's path
from ``fork()`` to ``ready`` is kept short because it is on every execution's critical path.
"""

from __future__ import annotations

import os
import select
import signal
import sys

from . import executor
from .protocol import Channel, ProtocolError, ProtocolFailure, decode_line, encode_message, write_all

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:  # the C module is enough to connect, and cheaper to import than ``socket``
    import _socket as _socketmodule
except ImportError:  # pragma: no cover
    import socket as _socketmodule  # type: ignore[no-redef]


def _ignore_signal(signum: int, frame: Any) -> None:
    """SIGCHLD needs a Python-level handler for the wakeup fd to be written."""


def _connect(path: str, channel: str) -> int:
    """Connect one stream to the fork socket, say ``hello`` on it and return its descriptor."""
    sock = _socketmodule.socket(_socketmodule.AF_UNIX, _socketmodule.SOCK_STREAM)
    try:
        sock.connect(path)
        fd = sock.detach()
    except BaseException:
        sock.close()
        raise
    write_all(fd, encode_message({"method": "hello", "params": {"pid": os.getpid(), "channel": channel}}))
    return fd


class Template:
    """The template process: forks children on request and reports their exits."""

    def __init__(self, channel: Channel, socket_path: str, preload: executor.Preload) -> None:
        self.channel = channel
        self.socket_path = socket_path
        self.preload = preload
        self.children: set[int] = set()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    def run(self, first: dict[str, Any]) -> int:
        """Handle ``first`` and every later message until end of input."""
        self._warn_about_threads()
        signal.set_wakeup_fd(self._wake_w)
        signal.signal(signal.SIGCHLD, _ignore_signal)
        self.handle(first)
        reader = self.channel.reader
        while True:
            self.reap()
            line = reader.pending_line()
            if line is not None:
                if line.strip():
                    try:
                        self.handle(decode_line(line))
                    except ProtocolError as e:
                        print(f"coflux: template ignored a bad message: {e}", file=sys.stderr)
                continue
            if reader.eof:
                break
            readable, _, _ = select.select([reader.fd, self._wake_r], [], [])
            if self._wake_r in readable:
                self._drain_wakeups()
            if reader.fd in readable:
                reader.fill()
        self.reap()
        return 0

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
                pid = os.fork()
            except OSError as e:
                print(f"coflux: fork failed: {e}", file=sys.stderr)
                return
            if pid == 0:
                self._become_child()  # never returns
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
                self.channel.notify("exited", {"pid": pid, "status": os.waitstatus_to_exitcode(status)})

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _warn_about_threads(self) -> None:
        threading = sys.modules.get("threading")
        if threading is not None and threading.active_count() > 1:
            print(
                "coflux: warning: preloaded modules started threads; forked children will not have them",
                file=sys.stderr,
            )

    def _become_child(self) -> None:
        """In the child: detach, connect, rebind stdio and run one execution; then exit."""
        status = 1
        try:
            status = self._child_main()
        except SystemExit as e:
            status = _exit_status(e)
        except ProtocolFailure as e:
            print(f"coflux: protocol failure: {e}", file=sys.stderr)
        except BaseException:
            import traceback

            traceback.print_exc()
        _exit(status)

    def _child_main(self) -> int:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(self._wake_r)
        os.close(self._wake_w)
        err = _connect(self.socket_path, "stderr")
        os.dup2(err, 2)
        proto = _connect(self.socket_path, "protocol")
        os.dup2(proto, 0)
        os.dup2(proto, 1)
        os.close(err)
        os.close(proto)
        sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)
        sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = sys.__stderr__ = open(
            2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
        )
        return executor.serve(Channel(0, 1), self.preload)


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
    import atexit

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
