"""The dashboard in a real Jupyter kernel, with every warning turned into an error.

A widget's state goes to the browser as JSON over the kernel's channels; NaN in a figure
(months without trade dates in the heatmap, the first window of the rolling Sharpe) made
jupyter-client warn "Message serialization failed ... Out of range float values are not JSON
compliant", printed in pink under the cell. Here the dashboard is displayed in a kernel started
with jupyter_client, as JupyterLab starts one, and nothing may come back on stderr or as an
error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kernel() -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _run(kc: BlockingKernelClient, code: str, timeout: float = 300) -> list[tuple[str, Any]]:
    """Execute ``code``; the (kind, content) of each output until the kernel is idle."""
    msg_id = kc.execute(code)
    out: list[tuple[str, Any]] = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return out
        if kind == "stream":
            out.append((content["name"], content["text"]))
        elif kind == "error":
            out.append(("error", f"{content['ename']}: {content['evalue']}"))
        elif kind in ("display_data", "execute_result"):
            out.append(("display", sorted(content["data"])))


def test_dashboard_displays_without_a_warning(
    kernel: tuple[KernelManager, BlockingKernelClient], small_sample: Path
) -> None:
    _, kc = kernel
    code = f"""
import warnings
warnings.simplefilter("error")
from IPython.display import display
from workbench.backtest import run_backtest
from workbench.data import load_bars
from workbench.strategies import strategy_class
from workbench.visualization.viewer import create_dashboard

result = run_backtest(load_bars(data_dir={str(small_sample)!r}), strategy_class("ema_crossover")())
tab = create_dashboard(result)
display(tab)
print("tabs:", len(tab.children))
"""
    out = _run(kc, code)
    problems = [text for kind, text in out if kind in ("stderr", "error")]
    assert problems == []
    assert ("stdout", "tabs: 7\n") in out
    displayed = [kinds for kind, kinds in out if kind == "display"]
    assert any("application/vnd.jupyter.widget-view+json" in kinds for kinds in displayed)
