"""Alerts from a paper session: ``workbench paper`` with a Slack webhook (a local HTTP server)
and an SMTP server that is down, both from the environment. The fill alerts arrive; the
failing channel does not stop the session (it finishes with the uninterrupted record)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.integration.subprocesses import EXE, child_env
from workbench.alerts import AlertConfig, AlertManager, Secret
from workbench.data import load_bars
from workbench.execution import PaperSession
from workbench.strategies import MomentumStrategy

TOKEN = "T0PAPER/B0HOOK/n0tT0B3L0gg3d"


class Hook:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(json.loads(raw))
                self.send_response(hook.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/services/{TOKEN}"

    def texts(self) -> list[str]:
        return [str(b.get("text", "")) for b in self.bodies]


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.server.shutdown()
    h.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_paper_cli_delivers_fill_alerts_and_survives_a_failing_channel(
    small_sample: Path, tmp_path: Path, hook: Hook
) -> None:
    env = child_env(
        WORKBENCH_SLACK_WEBHOOK_URL=hook.url,
        WORKBENCH_SMTP_HOST="127.0.0.1",
        WORKBENCH_SMTP_PORT=str(closed_port()),  # nobody listens: every e-mail fails
        WORKBENCH_SMTP_SENDER="workbench@example.test",
        WORKBENCH_ALERT_EMAIL_TO="trader@example.test",
    )
    args = ["--param", "fast_period=10", "--param", "slow_period=30", "--bars", "3000"]
    done = subprocess.run(
        [EXE, "paper", "--data-dir", str(small_sample), *args, "--no-save-results"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert TOKEN not in done.stderr + done.stdout  # the webhook URL is a secret
    fills = [t for t in hook.texts() if "Fill" in t or "Filled" in t]
    assert fills, hook.texts()[:3]
    trades = int(done.stdout.split(" trades")[0].rsplit(" ", 1)[-1])
    assert trades > 0


def test_failing_listener_and_webhook_do_not_change_the_session(
    small_sample: Path, hook: Hook
) -> None:
    bars = load_bars("MCL_FUT", data_dir=small_sample).iloc[:3000]
    strategy = MomentumStrategy(fast_period=10, slow_period=30)
    quiet = PaperSession(bars, strategy).run()
    hook.status = 500  # the webhook fails every delivery
    alerts = AlertManager(AlertConfig(slack_webhook_url=Secret(hook.url)), retries=1, backoff=0.01)

    def broken(event: object) -> None:
        raise RuntimeError("a listener bug")

    events: list[Any] = []
    session = PaperSession(bars, strategy, listeners=[broken, alerts.on_event, events.append])
    loud = session.run()
    alerts.close(timeout=10)
    assert loud.trades.equals(quiet.trades)
    assert session.engine._emitter.failures == len(events) > 0
    assert {e.kind for e in events} >= {"fill", "trade"}
    assert alerts.stats.failed > 0
    assert hook.bodies
