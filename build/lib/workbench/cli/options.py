"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from workbench.data.store import DATA_DIR_ENV


def data_dir_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--data-dir`` (or ``$WORKBENCH_DATA_DIR``; default ``./data``)."""
    return click.option(
        "--data-dir",
        envvar=DATA_DIR_ENV,
        default="data",
        show_default=True,
        help=f"Data root: a folder or an fsspec URL like s3://bucket/prefix (env {DATA_DIR_ENV}).",
    )(fn)
