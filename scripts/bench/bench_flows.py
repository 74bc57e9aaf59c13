"""Workflows measured by `make bench`."""

from __future__ import annotations

import os

import coflux as cf


@cf.task()
def noop(i: int) -> int:
    return i


@cf.workflow()
def fan_out(n: int) -> int:
    handles = [noop.submit(i) for i in range(n)]
    return len([h.result() for h in handles])


@cf.workflow()
def chain(n: int) -> int:
    for i in range(n):
        noop(i)
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
def mixed(n: int, marker_dir: str) -> int:
    handles = []
    for i in range(n):
        if i % 3 == 0:
            handles.append(cached.submit(i % 100))
        elif i % 3 == 1:
            handles.append(sometimes_fails.submit(marker_dir, i))
        else:
            handles.append(noop.submit(i))
    return len([h.result() for h in handles])
