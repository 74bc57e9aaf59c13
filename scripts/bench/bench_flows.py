"""Workflows measured by `make bench`.

Each workflow's last argument is a path it creates just before returning: the bench waits for that
file instead of polling the server, so the server's CPU during a run is the run's alone.
"""

from __future__ import annotations

import os

import coflux as cf


def _done(path: str) -> None:
    open(path, "w").close()


@cf.task()
def noop(i: int) -> int:
    return i


@cf.workflow()
def fan_out(n: int, done: str) -> int:
    handles = [noop.submit(i) for i in range(n)]
    count = len([h.result() for h in handles])
    _done(done)
    return count


@cf.workflow()
def chain(n: int, done: str) -> int:
    for i in range(n):
        noop(i)
    _done(done)
    return n


@cf.task(cache=True)
def cached(i: int) -> int:
    return i


@cf.task(retries=cf.Retries(2, backoff=(0, 0)))
def sometimes_fails(marker_dir: str, i: int) -> int:
    """Every 10th call fails its first attempt (a marker file remembers it across processes)."""
    if i % 10 == 0:
        marker = os.path.join(marker_dir, str(i))
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("transient")
    return i


@cf.workflow()
def mixed(n: int, marker_dir: str, done: str) -> int:
    handles = []
    for i in range(n):
        if i % 3 == 0:
            handles.append(cached.submit(i % 100))
        elif i % 3 == 1:
            handles.append(sometimes_fails.submit(marker_dir, i))
        else:
            handles.append(noop.submit(i))
    count = len([h.result() for h in handles])
    _done(done)
    return count
