"""One paper session at a time on a state folder (workbench.execution.state_lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.execution.state_lock import StateFolderInUse, StateLock

HOLD = """
import sys
from workbench.execution.state_lock import StateLock
lock = StateLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_a_second_lock_in_the_same_process_is_refused_until_the_first_lets_go(
    tmp_path: Path,
) -> None:
    first, second = StateLock(tmp_path), StateLock(tmp_path)
    first.acquire()
    first.acquire()  # the holder again: nothing to do
    with pytest.raises(StateFolderInUse, match="this process") as err:
        second.acquire()
    assert str(tmp_path) in str(err.value)
    assert not second.held
    first.release()
    second.acquire()
    assert second.held


def test_a_lock_held_by_another_process_names_it_and_a_kill_frees_it(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "held\n"
        with pytest.raises(StateFolderInUse, match=f"process {child.pid} on "):
            StateLock(tmp_path).acquire()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    lock = StateLock(tmp_path)
    lock.acquire()  # the OS dropped the dead holder's lock
    assert lock.held
