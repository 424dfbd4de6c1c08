"""Progress bars for sweeps and searches: tqdm on stderr in a terminal, a widget in Jupyter."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm


@contextmanager
def progress_bar(total: int, unit: str, *, enabled: bool = True) -> Iterator[Any]:
    """A bar counting ``total`` items (``bar.update(1)`` per item); a silent one when not
    ``enabled``."""
    bar = tqdm(total=total, unit=f" {unit}", file=sys.stderr, disable=not enabled, leave=True)
    try:
        yield bar
    finally:
        bar.close()
