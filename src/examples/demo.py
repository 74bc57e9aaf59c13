"""The demo workflow `make demo` runs: a fan-out, a chain, a cached step and a retry."""

from __future__ import annotations

import random
import time

import coflux as cf


@cf.task(cache=True)
def fetch_price(item: str) -> float:
    """Pretends to call a slow service; cached, so a second run is instant."""
    time.sleep(0.2)
    return round(random.uniform(1, 100), 2)


@cf.task(retries=cf.Retries(3, backoff=(0.1, 0.5)))
def apply_discount(price: float) -> float:
    """Fails now and then, to show automatic retries."""
    if random.random() < 0.3:
        raise RuntimeError("discount service hiccup")
    return round(price * 0.9, 2)


@cf.task()
def total(prices: list[float]) -> float:
    return round(sum(prices), 2)


@cf.workflow()
def checkout(items: list[str]) -> float:
    """Prices every item in parallel, discounts them, and adds them up."""
    cf.log_info("checking out {count} items", count=len(items))
    with cf.group("prices"):
        handles = [fetch_price.submit(item) for item in items]
    discounted = [apply_discount(h.result()) for h in handles]
    amount = total(discounted)
    print(f"total: {amount}")
    return amount
