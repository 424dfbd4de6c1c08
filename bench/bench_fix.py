"""FIX order round trip over loopback TCP: the workbench's FIX engine against QuickFIX.

One order in flight at a time: a NewOrderSingle goes out, the acceptor answers with an
ExecutionReport (New), the next order goes out when the report is in; 20,000 timed orders
after 2,000 warm-up ones, both engines in the same run, alternating, several rounds:

- ours: ``native/examples/fix_roundtrip.rs`` (release build): our initiator (tokio, one
  thread) -> our acceptor (``fix::gateway``, its own thread) -> the simulated exchange (the
  order rests in the book of a synthetic MBO feed held still) -> ExecutionReport back.
  Validation against the FIX 4.4 dictionary on both ends.
- QuickFIX 1.15 (C++, Debian's libquickfix-dev): ``native/tests/quickfix/roundtrip.cpp``, a
  QuickFIX initiator and a QuickFIX acceptor in one process, the acceptor answering each
  NewOrderSingle with an ExecutionReport carrying the same fields; no data dictionary
  (Debian ships no FIX44.xml), so QuickFIX does less work per message than ours.

Both sides: memory message stores, no message log, TCP_NODELAY, 30 s heartbeats.
Reports the median over rounds of each percentile and the ratio QuickFIX / ours.

A second row of ours, ``ours+poll``, has both ends busy-poll their socket for up to 200 us
before parking (``SessionConfig.busy_poll`` / ``GatewayConfig.busy_poll``, off by default):
on an idle virtual machine each wake-up from epoll costs tens of microseconds, which
dominates an otherwise ~20 us round trip. QuickFIX has no such option; its row parks.

With ``--log``, another row: ours with the message log on at both ends (``fix::log``, files
in a temporary folder), to price the log against the same run without it.

Usage: python bench/bench_fix.py [ROUNDS] [ORDERS] [--log]
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NATIVE = ROOT / "native"
KEYS = ("p50_us", "p90_us", "p99_us", "p999_us")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def result(stdout: str) -> dict[str, float]:
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"no RESULT line in:\n{stdout}")


def build() -> tuple[list[str], list[str] | None]:
    subprocess.run(
        ["cargo", "build", "-q", "--release", "--features", "fix", "--example", "fix_roundtrip"],
        cwd=NATIVE,
        check=True,
        timeout=1800,
    )
    ours = [str(NATIVE / "target" / "release" / "examples" / "fix_roundtrip")]
    qf = subprocess.run(
        ["sh", str(NATIVE / "tests" / "quickfix" / "build_one.sh"), "roundtrip"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if qf.returncode == 77:
        print("QuickFIX: not installed (apt-get install libquickfix-dev); ours only")
        return ours, None
    if qf.returncode != 0:
        raise RuntimeError(f"building the QuickFIX round trip failed:\n{qf.stderr}")
    return ours, [qf.stdout.strip()]


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--log"]
    with_log = "--log" in sys.argv[1:]
    rounds = int(args[0]) if args else 3
    orders = int(args[1]) if len(args) > 1 else 20_000
    ours_cmd, qf_cmd = build()
    runs: dict[str, list[dict[str, float]]] = {
        "workbench": [],
        "ours+poll": [],
        "quickfix": [],
        "ours+log": [],
    }
    polling = {**os.environ, "FIX_BUSY_POLL_US": "200"}
    for _ in range(rounds):
        out = subprocess.run(
            [*ours_cmd, str(orders), "2000"], capture_output=True, text=True, timeout=600
        )
        runs["workbench"].append(result(out.stdout))
        out = subprocess.run(
            [*ours_cmd, str(orders), "2000"],
            capture_output=True,
            text=True,
            timeout=600,
            env=polling,
        )
        runs["ours+poll"].append(result(out.stdout))
        if with_log:
            with tempfile.TemporaryDirectory(prefix="wb-fixlog-") as logs:
                out = subprocess.run(
                    [*ours_cmd, str(orders), "2000", logs],
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
            runs["ours+log"].append(result(out.stdout))
        if qf_cmd is not None:
            out = subprocess.run(
                [*qf_cmd, str(free_port()), str(orders), "2000"],
                capture_output=True,
                text=True,
                timeout=600,
            )
            runs["quickfix"].append(result(out.stdout))
    print(f"FIX order round trip over loopback, {orders} orders, median of {rounds} rounds (us)")
    print(f"{'engine':<12}" + "".join(f"{k[:-3]:>10}" for k in KEYS))
    med: dict[str, dict[str, float]] = {}
    for engine, rs in runs.items():
        if not rs:
            continue
        med[engine] = {k: statistics.median(r[k] for r in rs) for k in KEYS}
        print(f"{engine:<12}" + "".join(f"{med[engine][k]:>10.1f}" for k in KEYS))
    if "quickfix" in med:
        ratio = "".join(f"{med['quickfix'][k] / med['workbench'][k]:>9.1f}x" for k in KEYS)
        print(f"{'QF / ours':<12}" + ratio)
    if "ours+log" in med:
        ratio = "".join(f"{med['ours+log'][k] / med['workbench'][k]:>9.2f}x" for k in KEYS)
        print(f"{'log / none':<12}" + ratio)
    for engine in ("workbench", "ours+poll"):
        ours = med[engine]
        print(
            f"targets, {engine}: p50 < 30 us ({'met' if ours['p50_us'] < 30 else 'MISSED'}), "
            f"p99 < 100 us ({'met' if ours['p99_us'] < 100 else 'MISSED'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
