"""Sweeps that do not lose work: the ledger and resuming, Ctrl-C, a failing combination, a
worker process that dies, an existing Dask cluster (a real scheduler and two workers on
127.0.0.1), the plan printed before running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cloudpickle
import numpy as np
import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env
from workbench.data import load_bars
from workbench.optimize import ParameterGrid, sweep
from workbench.optimize.ledger import LEDGER_FILE
from workbench.strategies import MomentumStrategy, ParamRange
from workbench.strategies.base import Strategy

# The test strategies below travel to Dask workers by value (their module is not installed).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

GRID = {"fast_period": [5, 10, 20], "slow_period": [30, 60, 90]}
#: Combinations the in-process test strategies have run (reset by each test).
CALLS: list[int] = []


@dataclass(frozen=True)
class Flaky(Strategy):
    """A crossover whose ``lookback`` is its fast period; ``trap`` marks what goes wrong:
    ``lookback == trap`` raises (or interrupts, or kills its process, per ``mode``)."""

    name: ClassVar[str] = "flaky"
    param_space: ClassVar[dict[str, ParamRange]] = {"lookback": ParamRange(5, 40, 5)}

    lookback: int = 10
    trap: int = 0
    mode: str = "raise"
    marker: str = ""

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        CALLS.append(self.lookback)
        if self.lookback == self.trap:
            if self.mode == "raise":
                raise ValueError(f"lookback {self.lookback} is cursed")
            if self.mode == "interrupt":
                raise KeyboardInterrupt
            if self.mode == "die" and not Path(self.marker).exists():
                Path(self.marker).write_text("died once")
                os._exit(1)  # the worker process dies mid-task
        close = bars["close"]
        return np.sign(close - close.rolling(self.lookback).mean()).fillna(0).to_numpy()


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample, start="2024-01-08", end="2024-02-09")


def _ledger(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / LEDGER_FILE).read_text().splitlines()]


def test_a_failing_combination_is_recorded_and_the_sweep_goes_on(
    bars: pd.DataFrame, tmp_path: Path
) -> None:
    grid = ParameterGrid(Flaky, {"lookback": [5, 10, 15, 20], "trap": [15]})
    result = sweep(bars, grid, folder=tmp_path / "s")
    assert sorted(result.table["lookback"]) == [5, 10, 20]
    [(params, why)] = result.skipped
    assert params["lookback"] == 15
    assert why.startswith("failed: ValueError: lookback 15 is cursed")
    assert result.n_trials == 4  # the failure was a trial too
    lines = _ledger(tmp_path / "s")
    assert "sweep" in lines[0]
    assert [x["error"] for x in lines[1:] if "error" in x] == [why[len("failed: ") :]]
    saved = json.loads((tmp_path / "s" / "best_params.json").read_text())
    assert saved["skipped"][0]["reason"] == why


def test_an_interrupted_sweep_resumes_with_only_the_missing_combinations(
    bars: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "sweep"
    ranges: dict[str, Any] = {"lookback": [5, 10, 15, 20, 25], "mode": ["interrupt"]}
    CALLS.clear()
    with pytest.raises(KeyboardInterrupt):
        sweep(bars, ParameterGrid(Flaky, {**ranges, "trap": [20]}), folder=folder)
    assert CALLS == [5, 10, 15, 20]
    done = _ledger(folder)[1:]
    assert [x["params"]["lookback"] for x in done] == [5, 10, 15]  # each as it finished
    assert not (folder / "best_params.json").exists()
    # The same sweep into the same folder runs only what is missing: 20 first (and the
    # trap interrupts it again), not 5, 10 or 15.
    CALLS.clear()
    with pytest.raises(KeyboardInterrupt):
        sweep(bars, ParameterGrid(Flaky, {**ranges, "trap": [20]}), folder=folder)
    assert CALLS == [20]  # 5, 10, 15 were not run again


def test_resume_runs_only_what_is_missing_and_gives_the_full_table(
    bars: pd.DataFrame, tmp_path: Path
) -> None:
    grid = ParameterGrid(MomentumStrategy, GRID)
    full = sweep(bars, grid)
    folder = tmp_path / "sweep"
    # A sweep cut short: its ledger holds three finished combinations and half a line.
    first = sweep(bars, grid, combinations=[p for p in grid.valid()[:3]], folder=tmp_path / "part")
    assert len(first.table) == 3
    folder.mkdir()
    lines = (tmp_path / "part" / LEDGER_FILE).read_text().splitlines()
    head = json.loads(lines[0])
    (folder / LEDGER_FILE).write_text("\n".join(lines) + "\n" + lines[-1][:40])
    assert head["sweep"]["strategy"] == "ema_crossover"
    resumed = sweep(bars, grid, folder=folder)
    pd.testing.assert_frame_equal(resumed.table, full.table)
    pd.testing.assert_frame_equal(resumed.returns, full.returns)
    keys = [json.dumps(x["params"], sort_keys=True) for x in _ledger_tolerant(folder)[1:]]
    assert len(keys) == len(set(keys)) == len(grid.valid())  # nothing counted twice
    with pytest.raises(Exception, match="holds another sweep"):
        sweep(bars.iloc[:-10], grid, folder=folder)


def _ledger_tolerant(folder: Path) -> list[dict]:
    out = []
    for line in (folder / LEDGER_FILE).read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def test_a_dying_worker_has_its_task_retried_once(bars: pd.DataFrame, tmp_path: Path) -> None:
    from dask.distributed import Client, LocalCluster

    marker = tmp_path / "died"
    grid = ParameterGrid(
        Flaky, {"lookback": [5, 10, 15, 20], "trap": [10], "mode": ["die"], "marker": [str(marker)]}
    )
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        result = sweep(bars, grid, client=client, chunk_size=1, folder=tmp_path / "s")
    assert marker.read_text() == "died once"  # a worker really died
    assert sorted(result.table["lookback"]) == [5, 10, 15, 20]
    assert not result.skipped
    keys = [x["params"]["lookback"] for x in _ledger(tmp_path / "s")[1:]]
    assert sorted(keys) == [5, 10, 15, 20]  # each once


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1."""
    from dask.distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    logs = tmp_path_factory.mktemp("dask")
    env = child_env()
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=(logs / "scheduler.log").open("w"),
            env=env,
        )
    ]
    try:
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=(logs / f"worker{i}.log").open("w"),
                    env=env,
                )
            )
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_an_existing_cluster_gives_the_in_process_table(
    bars: pd.DataFrame, scheduler: str, small_sample: Path, tmp_path: Path
) -> None:
    from dask.distributed import Client

    grid = ParameterGrid(MomentumStrategy, GRID)
    with Client(scheduler) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        remote = sweep(bars, grid, client=client, chunk_size=1)
        ran_on = client.run(os.getpid)
    assert len(set(ran_on.values())) == 2
    local = sweep(bars, grid)
    pd.testing.assert_frame_equal(remote.table, local.table)
    out = subprocess.run(
        [
            EXE,
            "sweep",
            "--data-dir",
            str(small_sample),
            "--scheduler",
            scheduler,
            "--grid",
            "fast_period=5,10",
            "--grid",
            "slow_period=30,60",
            "--start",
            "2024-01-08",
            "--end",
            "2024-02-09",
            "--results-dir",
            str(tmp_path),
            "--json",
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["combinations"] == 4
    assert f"for one worker of {scheduler}" in out.stderr
    bad = subprocess.run(
        [
            EXE,
            "sweep",
            "--data-dir",
            str(small_sample),
            "--no-save",
            "--scheduler",
            f"tcp://127.0.0.1:{_free_port()}",
            "--grid",
            "fast_period=5",
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0
    assert "cannot reach the Dask scheduler" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_ctrl_c_keeps_a_consistent_folder_and_the_same_command_finishes_it(
    small_sample: Path, tmp_path: Path
) -> None:
    cmd = [EXE, "sweep", "--data-dir", str(small_sample), "--results-dir", str(tmp_path)]
    cmd += ["--grid", "fast_period=2:40:2", "--grid", "slow_period=50,60,70,80", "--json"]
    proc = subprocess.Popen(
        cmd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    ledger = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(tmp_path.glob(f"*/{LEDGER_FILE}"))
        if found and len(found[0].read_text().splitlines()) >= 4:
            ledger = found[0]
            break
        time.sleep(0.02)
    assert ledger is not None, "the sweep wrote no results"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "run the same command to resume" in err
    assert "Traceback" not in err
    folder = ledger.parent
    assert not (folder / "best_params.json").exists()
    before = _ledger_tolerant(folder)
    assert before[0]["sweep"]["strategy"] == "ema_crossover"
    n_before = len(before) - 1
    assert 3 <= n_before < 80
    again = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"resuming {folder}" in again.stderr
    doc = json.loads(again.stdout)
    assert doc["folder"] == str(folder)
    assert doc["combinations"] == 80
    keys = [json.dumps(x["params"], sort_keys=True) for x in _ledger_tolerant(folder)[1:]]
    assert len(keys) == len(set(keys)) == 80  # the finished ones were not run again
    assert (folder / "best_params.json").is_file()
