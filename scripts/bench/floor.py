"""The fork floor for `make bench`: what a bare fork-and-exit costs in an interpreter prepared as the
worker's fork template is (same python, environment and working directory, the adapter's executor
and fork modules imported, ``COFLUX_EXECUTOR_MODULES`` preloaded the way the template does).

``python floor.py N`` forks N children one at a time; each child calls ``os._exit(0)`` at once and
the parent reaps it with ``wait4``. Prints one JSON line: per fork, the parent's CPU (its own
rusage delta over the loop), the child's CPU (wait4's rusage) and the wall-clock round trip from
before ``fork()`` to after ``wait4()``, all in milliseconds.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

# ``python -m coflux execute`` puts the working directory first on sys.path; a script puts its own
# directory there instead
sys.path.insert(0, os.getcwd())

from coflux import executor, fork  # noqa: E402,F401  (what the template has imported)

WARM_UP = 10


def _cpu_ms(usage: resource.struct_rusage) -> float:
    return (usage.ru_utime + usage.ru_stime) * 1000


def _rss_kib() -> int:
    """VmRSS now (``ru_maxrss`` would not do: Linux keeps the pre-exec high-water mark, here the
    spawning Bun process's)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _fork_once() -> tuple[float, float]:
    """One fork → exit → reap; returns (wall ms, child CPU ms)."""
    start = time.perf_counter_ns()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    return (time.perf_counter_ns() - start) / 1e6, _cpu_ms(usage)


def main() -> None:
    count = int(sys.argv[1])
    preload = executor.Preload()
    preload.run(executor.modules_from_environment())
    sys.stdout.flush()
    sys.stderr.flush()
    rss = _rss_kib()
    for _ in range(WARM_UP):
        _fork_once()
    walls: list[float] = []
    children: list[float] = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(count):
        wall, child = _fork_once()
        walls.append(wall)
        children.append(child)
    after = resource.getrusage(resource.RUSAGE_SELF)
    json.dump(
        {
            "python": sys.executable,
            "version": sys.version.split()[0],
            "preloaded": preload.loaded,
            "preloadFailed": list(preload.failed),
            "modules": len(sys.modules),
            "rssKiB": rss,
            "forks": count,
            "parentCpuMs": (_cpu_ms(after) - _cpu_ms(before)) / count,
            "childCpuMs": children,
            "roundTripMs": walls,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
