"""One session at a time on a state folder: an exclusive lock on ``DIR/session.lock``.

Two sessions on one journal would each replay it, send the same orders and write over each
other's rows. A :class:`~workbench.execution.session.PaperSession` with a ``state_dir`` takes
this lock before it opens the journal and holds it until its run ends (or it is closed); a
second session on the folder, in another process (another kernel, a ``workbench paper``) or
in the same one (a notebook cell run again while the first session still runs), is refused
with :class:`StateFolderInUse` before it reads or writes anything.

The lock is an OS file lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows): the OS drops
it when its holder dies, SIGKILL included, so a crashed session's folder is free at once for
the resume. The file itself stays; it holds the holder's process id, host and start time,
which the refusal names.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

#: The lock file in a state folder.
LOCK_FILE = "session.lock"


class StateFolderInUse(ConfigError):
    """The state folder is held by a session that is running (or not yet closed)."""


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock of ``fd`` without waiting; whether it was free."""
    if sys.platform == "win32":
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> dict[str, Any]:
    """What the lock file says about its holder (empty when unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class StateLock:
    """The exclusive lock of a session's state folder.

    Parameters
    ----------
    folder : str or Path
        The state folder (it must exist).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock (nothing to do if this object holds it already).

        Raises
        ------
        StateFolderInUse
            Another session holds it: the message names its process and since when.
        """
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            raise self._refusal()
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(me).encode())  # at offset 0: the file was just opened
        self._fd = fd

    def release(self) -> None:
        """Let the folder go (the OS lock ends with the file's closing)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:  # a session dropped without close(): the folder is let go
        self.release()

    def _refusal(self) -> StateFolderInUse:
        who = _holder(self.path)
        pid, host, since = who.get("pid"), who.get("host"), who.get("since")
        if pid == os.getpid() and host == socket.gethostname():
            return StateFolderInUse(
                f"state folder {self.folder} is in use by another paper session of this "
                f"process (this kernel), running since {since}",
                hint="stop that session first (session.stop(), then session.join(); "
                "session.close() if it never ran), or give this one another state_dir",
            )
        where = f"process {pid} on {host}" if pid else "another process"
        return StateFolderInUse(
            f"state folder {self.folder} is in use by another paper session "
            f"({where}{f', since {since}' if since else ''}); two sessions on one journal "
            "would send the same orders twice",
            hint="stop that session (its Stop button, session.stop() in its notebook, Ctrl-C, "
            "or end its process), then run this again to resume; or give this one another "
            "state_dir",
        )
