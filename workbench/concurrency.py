"""Worker threads for native kernels that release the GIL (one core each on a 2-core box)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

_POOLS: dict[str, ThreadPoolExecutor] = {}
_LOCK = threading.Lock()


def _forget_pools() -> None:
    """In a forked child: the pools' threads did not survive the fork (a pool that believes it
    has an idle thread would never run a task), nor may the lock's state: start afresh."""
    global _LOCK
    _POOLS.clear()
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def worker(purpose: str) -> ThreadPoolExecutor:
    """The one-thread pool for ``purpose``, created on first use.

    One pool per purpose, not a shared one: a task on one pool may wait on a task of another
    (a strategy's ``stop_distance`` computing an ``ema_pair``, say), which a single shared
    thread would deadlock on.

    Parameters
    ----------
    purpose : str
        A short name, also the thread's name prefix (``workbench-<purpose>``).

    Returns
    -------
    concurrent.futures.ThreadPoolExecutor
    """
    with _LOCK:
        pool = _POOLS.get(purpose)
        if pool is None:
            pool = _POOLS[purpose] = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"workbench-{purpose}"
            )
        return pool
