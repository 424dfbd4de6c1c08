"""Ctrl-C in a terminal during ``workbench sweep --workers 2``: the terminal sends SIGINT to
the whole foreground process group, the local Dask worker processes included. The sweep
stops with its one-line message and its ledger kept; no worker dies of the signal (each
used to print a KeyboardInterrupt traceback) and Dask's shutdown warnings stay quiet."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.subprocesses import EXE, child_env
from workbench.optimize.ledger import LEDGER_FILE


def _as_in_a_terminal() -> None:
    """The child's own process group, with SIGINT at its default (a shell's background job
    would have it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgrp()


def test_ctrl_c_to_the_process_group_stops_a_dask_sweep_without_worker_tracebacks(
    small_sample: Path, tmp_path: Path
) -> None:
    cmd = [EXE, "sweep", "--data-dir", str(small_sample), "--results-dir", str(tmp_path)]
    cmd += ["--strategy", "bollinger_reversion", "--workers", "2", "--no-progress"]
    cmd += ["--grid", "period=10:100:5", "--grid", "num_std=1:3:0.25", "--yes"]
    proc = subprocess.Popen(
        cmd,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_in_a_terminal,
    )
    deadline = time.monotonic() + 240
    ledger = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(tmp_path.glob(f"*/{LEDGER_FILE}"))
        if found and len(found[0].read_text().splitlines()) >= 4:
            ledger = found[0]
            break
        time.sleep(0.05)
    assert ledger is not None, "the sweep wrote no results"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "run the same command to resume" in err
    assert "KeyboardInterrupt" not in err  # no worker died of the Ctrl-C
    assert "WARNING" not in err  # nor did Dask log the tasks it cancelled on closing
    assert not (ledger.parent / "best_params.json").exists()
