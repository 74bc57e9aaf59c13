"""Shared helpers for the adapter's tests.

The adapter is imported from ``src/python`` explicitly (never from site-packages), and executor
processes are started the way a worker starts them: ``python -S -m coflux execute`` with the
adapter directory on ``PYTHONPATH``, or ``python -I -S -c <bootstrap>`` which inserts it into
``sys.path`` itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ADAPTER_DIR = ROOT / "src" / "python"
FIXTURES = ROOT / "test" / "fixtures"

if str(ADAPTER_DIR) not in sys.path:
    sys.path.insert(0, str(ADAPTER_DIR))

# The interpreter of spawned adapters (set COFLUX_TEST_PYTHON to check another Python version).
PYTHON = os.environ.get("COFLUX_TEST_PYTHON") or sys.executable

# Mirrors how a worker can start an isolated interpreter (-I ignores PYTHONPATH and the cwd).
BOOTSTRAP = (
    "import sys, runpy; sys.path[:0] = [sys.argv.pop(1), '']; "
    "runpy.run_module('coflux', run_name='__main__', alter_sys=True)"
)


def executor_command(mode: str) -> list[str]:
    """The argv of an executor process in the given start mode."""
    if mode == "isolated":
        return [PYTHON, "-I", "-S", "-c", BOOTSTRAP, str(ADAPTER_DIR), "execute"]
    return [PYTHON, "-S", "-m", "coflux", "execute"]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a spawned adapter: PYTHONPATH = the adapter dir (and the cwd)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COFLUX_", "PYTHON"))}
    env["PYTHONPATH"] = str(ADAPTER_DIR)
    env.update(extra or {})
    return env


class FakeWorker:
    """A scripted worker driving one executor process over pipes."""

    def __init__(self, cwd: Path, *, mode: str = "module", env: dict[str, str] | None = None):
        self.process = subprocess.Popen(
            executor_command(mode),
            cwd=cwd,
            env=child_env(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.messages: list[dict] = []

    def read(self) -> dict | None:
        line = self.process.stdout.readline()
        if not line:
            return None
        assert line.endswith(b"\n")
        line.decode("ascii")  # the adapter writes ASCII JSON
        message = json.loads(line)
        self.messages.append(message)
        return message

    def send(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def execute(self, module: str, target: str, arguments: list, working_dir: Path, **extra) -> None:
        params = {
            "execution_id": "RwD6:1:1",
            "module": module,
            "target": target,
            "arguments": arguments,
            "working_dir": str(working_dir),
            "run_id": "RwD6",
            "workspace_id": "Wk9x",
            "attempt": 1,
            "timeout_ms": 0,
        }
        params.update(extra)
        self.send({"method": "execute", "params": params})

    def run(self, respond=None) -> dict:
        """Read messages until the completion; ``respond(message)`` answers requests."""
        while True:
            message = self.read()
            if message is None:
                raise AssertionError(f"executor exited early: {self.stderr()}")
            if "id" in message:
                assert respond is not None, f"unexpected request {message}"
                result = respond(message)
                self.send({"id": message["id"], **result})
            elif message["method"] in ("execution_result", "execution_error"):
                return message

    def finish(self, timeout: float = 10) -> int:
        self.process.stdin.close()
        return self.process.wait(timeout)

    def stderr(self) -> str:
        self.process.kill()
        return self.process.stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except Exception:
                pass


def inline(value) -> dict:
    """An inline Value as the worker sends it."""
    return {"type": "inline", "format": "json", "value": value}


@pytest.fixture
def app_dir(tmp_path: Path):
    """A directory of user modules; ``write(name, source)`` adds one."""

    class App:
        path = tmp_path / "app"

        def write(self, relative: str, source: str) -> Path:
            file = self.path / relative
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(textwrap.dedent(source))
            return file

    App.path.mkdir()
    return App()


@pytest.fixture
def worker_factory():
    """Creates FakeWorkers and kills any left running."""
    workers: list[FakeWorker] = []

    def make(cwd: Path, **kwargs) -> FakeWorker:
        worker = FakeWorker(cwd, **kwargs)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.close()


@pytest.fixture
def clean_modules():
    """Forget user modules imported by a test (they are re-created per test)."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if not name.startswith(("coflux", "_pytest", "pytest")):
            sys.modules.pop(name, None)
