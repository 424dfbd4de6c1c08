"""A real Jupyter kernel driven as JupyterLab drives one (jupyter_client): run a cell, send
it an interrupt while it runs, or kill the kernel's process outright."""

from __future__ import annotations

import os
import queue
import signal
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CellOutput:
    """What a cell sent back: printed text, displayed mime types, its error if any."""

    stdout: str = ""
    stderr: str = ""
    displayed: list[list[str]] = field(default_factory=list)
    ename: str | None = None
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)


class Kernel:
    """A python3 kernel in its own process (cwd: the project)."""

    def __init__(self) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(ROOT))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def send(self, code: str) -> str:
        """Start executing ``code``; its message id (for :meth:`collect`)."""
        return str(self.kc.execute(code))

    def collect(self, msg_id: str, timeout: float = 300, until: str | None = None) -> CellOutput:
        """The outputs of the cell ``msg_id`` until the kernel is idle again (or, with
        ``until``, until the cell has printed that; a second call reads on from there)."""
        out = CellOutput()
        while until is None or until not in out.stdout:
            try:
                msg = self.kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"the cell did not end within {timeout} s") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return out
            if kind == "stream":
                name = content["name"]
                setattr(out, name, getattr(out, name) + content["text"])
            elif kind == "error":
                out.ename, out.evalue = content["ename"], content["evalue"]
                out.traceback = list(content["traceback"])
            elif kind in ("display_data", "execute_result"):
                out.displayed.append(sorted(content["data"]))
        return out

    def run(self, code: str, timeout: float = 300) -> CellOutput:
        """Execute ``code`` and wait for it."""
        return self.collect(self.send(code), timeout)

    @property
    def pid(self) -> int:
        """The kernel's process id."""
        return int(self.km.provisioner.process.pid)  # type: ignore[union-attr]

    def interrupt(self) -> None:
        """The notebook's interrupt button (SIGINT to the kernel)."""
        self.km.interrupt_kernel()

    def kill(self) -> None:
        """The kernel dies at once (SIGKILL), as when it crashes or is restarted."""
        os.kill(self.pid, signal.SIGKILL)
        self.km.provisioner.process.wait()  # type: ignore[union-attr]

    def close(self) -> None:
        """Stop the channels and shut the kernel down."""
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
