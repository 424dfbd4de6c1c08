"""Result folders that appear complete or not at all.

A run (or comparison) folder is written under a hidden temporary name in the same parent,
``.{name}.tmp-{hex}``, and renamed to ``{name}`` once every file is in it. A crash leaves
only the hidden folder, which :func:`list_runs` ignores and :func:`clean_stale` removes once
it is older than an hour.

The final name is reserved first with a lock file ``.{name}.lock`` created exclusively
(``O_CREAT | O_EXCL``): two processes saving in the same second cannot pick the same name,
so the second one takes ``{name}_2`` (then ``_3`` ...). The lock is removed after the rename;
a stale one (from a killed process) only makes later saves skip that name, and is cleaned up
like the temporary folders.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from workbench.errors import WorkbenchError

#: Temporary folders and locks older than this (seconds) are removed by :func:`clean_stale`.
STALE_AFTER_SECONDS = 3600.0
#: The file that makes a folder a complete backtest run.
SUMMARY_FILE = "summary.json"
_LEFTOVER_RE = re.compile(r"^\..+\.(tmp-[0-9a-f]+|lock)$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MAX_SUFFIX = 10_000


def check_name(name: str) -> str:
    """Refuse a folder name that could escape its parent or hide itself.

    Parameters
    ----------
    name : str
        A proposed run or comparison name.

    Returns
    -------
    str
        ``name`` unchanged.

    Raises
    ------
    WorkbenchError
        If ``name`` is empty, starts with a dot or holds a character other than letters,
        digits, ``_``, ``-`` and ``.``.
    """
    if not _NAME_RE.match(name) or name in (".", ".."):
        raise WorkbenchError(
            f"invalid run id {name!r}",
            hint="use letters, digits, '_', '-' and '.', not starting with '.' (no slashes)",
        )
    return name


def prepare_parent(parent: str | Path) -> Path:
    """Create the folder that holds the runs, with clear errors.

    Parameters
    ----------
    parent : str or Path
        E.g. ``results/backtests``.

    Returns
    -------
    Path
        The folder, created if needed.

    Raises
    ------
    WorkbenchError
        If ``parent`` (or one of its parents) is a file, or cannot be created or written.
    """
    path = Path(parent).expanduser()
    if path.exists() and not path.is_dir():
        raise WorkbenchError(
            f"results folder {path} is a file, not a folder",
            hint="pass another --results-dir, or move that file away",
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise WorkbenchError(
            f"cannot create the results folder {path}: part of that path is a file",
            hint="pass another --results-dir",
        ) from None
    except PermissionError as exc:
        raise WorkbenchError(
            f"cannot create the results folder {path}: {exc.strerror}",
            hint="pass a folder you can write to with --results-dir",
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise WorkbenchError(
            f"the results folder {path} is not writable",
            hint="pass a folder you can write to with --results-dir, or fix its permissions",
        )
    return path


def clean_stale(parent: Path, max_age: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Remove temporary folders and locks left in ``parent`` by crashed saves.

    Parameters
    ----------
    parent : Path
        A folder of runs.
    max_age : float, default 3600
        Only leftovers last modified more than this many seconds ago are removed (a save
        in progress is never touched).

    Returns
    -------
    list of Path
        What was removed.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        if not _LEFTOVER_RE.match(entry.name):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime <= max_age:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue  # another process got there first, or it is not ours to remove
        removed.append(Path(entry.path))
    return removed


def _reserve(parent: Path, base: str) -> tuple[str, Path]:
    """Reserve the first free name among ``base``, ``base_2``, ...: (name, lock file)."""
    for k in range(1, _MAX_SUFFIX):
        name = base if k == 1 else f"{base}_{k}"
        lock = parent / f".{name}.lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        os.close(fd)
        if os.path.lexists(parent / name):
            os.unlink(lock)
            continue
        return name, lock
    raise WorkbenchError(f"no free name for {base!r} in {parent}", hint="clean up that folder")


@contextmanager
def atomic_folder(parent: Path, base: str) -> Iterator[tuple[str, Path]]:
    """Reserve a free name in ``parent`` and yield ``(name, temporary folder)``.

    Write everything into the temporary folder inside the ``with`` block; on a normal exit
    it is renamed to ``parent / name``. On an exception (including KeyboardInterrupt) it is
    deleted and the exception propagates. The reservation is released either way.

    Parameters
    ----------
    parent : Path
        An existing, writable folder (see :func:`prepare_parent`).
    base : str
        The wanted name; ``_2``, ``_3`` ... is appended while it is taken.

    Yields
    ------
    tuple of (str, Path)
        The final name and the temporary folder to fill.
    """
    name, lock = _reserve(parent, check_name(base))
    try:
        tmp = parent / f".{name}.tmp-{uuid.uuid4().hex[:12]}"
        os.mkdir(tmp)
        try:
            yield name, tmp
            os.rename(tmp, parent / name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        with suppress(FileNotFoundError):
            os.unlink(lock)


def is_run_dir(path: str | Path) -> bool:
    """True for a complete run folder: not hidden, holding a summary.json.

    Parameters
    ----------
    path : str or Path
        A folder.

    Returns
    -------
    bool
        Whether ``path`` is a finished run.
    """
    p = Path(path)
    return not p.name.startswith(".") and (p / SUMMARY_FILE).is_file()


def list_runs(results_dir: str | Path = "results/backtests") -> list[Path]:
    """The complete runs in ``results_dir``, oldest first (run ids sort by time).

    Temporary folders of saves in progress or crashed (``.{run_id}.tmp-...``), locks and
    folders without a summary.json are left out.

    Parameters
    ----------
    results_dir : str or Path, default "results/backtests"
        The folder holding the runs.

    Returns
    -------
    list of Path
        Run folders, sorted by name.
    """
    root = Path(results_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and is_run_dir(p))
