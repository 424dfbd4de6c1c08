"""Order book replay: ``workbench.book.replay`` against other books, in one run.

On the ESH4 MBO file (68,792 records, 47,022 event boundaries), medians of several rounds:

- ours: ``replay(path)``: decode (Rust ``dbn``) + L3 book + a top-10 snapshot at every
  event boundary + the MBP-10 DataFrame;
- nautilus_trader 1.221: its Rust Databento loader to pyo3 deltas (decode) + one
  ``OrderBook.apply_delta`` per delta (apply), no output. It cannot share this project's
  lock (pandas<3), so it runs in the interpreter named by ``WORKBENCH_PEERS_PYTHON`` (or in
  process when importable), else it is reported as not installed;
- hftbacktest (in the lock): ``data.utils.databento.convert`` (decode to its event array)
  + a backtest over the events with its hash-map depth and no strategy (replay);
- a plain Python dict book over ``databento_dbn``'s decoded records (decode + apply).

Then the Rust end-to-end figures of ``native/examples/book_replay.rs`` and the tick-to-decision
percentiles of ``native/examples/tick_to_decision.rs`` (release builds through ``cargo run``).

Usage: python bench/bench_book.py [ROUNDS]
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import book_peers  # the sibling script in bench/
import databento_dbn as dbn
import zstandard

from workbench.book import replay

ROOT = Path(__file__).resolve().parents[1]
ESH4 = ROOT.parent / "shared" / "data" / "real" / "nautilus" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
UNDEF = 2**63 - 1


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def dict_book(path: Path) -> int:
    """Decode with databento_dbn, apply to a dict book (levels and orders); boundaries seen."""
    raw = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
    dec = dbn.DBNDecoder()
    dec.write(raw)
    orders: dict[int, tuple[str, int, int]] = {}
    levels: dict[str, dict[int, int]] = {"B": {}, "A": {}}
    boundaries = 0
    for m in dec.decode():
        if not isinstance(m, dbn.MBOMsg):
            continue
        action, side, oid = str(m.action), str(m.side), m.order_id
        if action == "A" and side in "BA" and oid not in orders:
            orders[oid] = (side, m.price, m.size)
            lv = levels[side]
            lv[m.price] = lv.get(m.price, 0) + m.size
        elif action in "CM" and oid in orders:
            s, p, z = orders.pop(oid)
            left = z - m.size if action == "C" else 0
            levels[s][p] -= z - left
            if levels[s][p] == 0:
                del levels[s][p]
            if action == "M" and m.size > 0:
                orders[oid] = (s, m.price, m.size)
                levels[s][m.price] = levels[s].get(m.price, 0) + m.size
            elif left > 0:
                orders[oid] = (s, p, left)
                levels[s][p] = levels[s].get(p, 0) + left
        elif action == "R":
            orders.clear()
            levels = {"B": {}, "A": {}}
        boundaries += int(m.flags) >> 7
    return boundaries


def peer_json(command: str, rounds: int) -> dict[str, list[float]] | str:
    """A peer's timings from book_peers.py, in process or in the peers' interpreter."""
    python = os.environ.get("WORKBENCH_PEERS_PYTHON")
    module = "nautilus_trader" if command.startswith("nautilus") else "hftbacktest"
    if python is None:
        if importlib.util.find_spec(module) is None:
            return f"{module} not installed here (set WORKBENCH_PEERS_PYTHON to a venv with it)"
        python = sys.executable
    script = Path(book_peers.__file__)
    out = subprocess.run(
        [python, str(script), command, str(ESH4), str(rounds)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return f"{command} failed: {out.stderr.strip().splitlines()[-1:]}"
    result: dict[str, list[float]] = json.loads(out.stdout)
    return result


def _example(name: str, *args: str) -> list[str] | None:
    """The output lines of a release example of the native crate (``cargo run`` rebuilds it
    when its sources changed; the built binary alone only when cargo is absent)."""
    cmd = ["cargo", "run", "-q", "--release", "--manifest-path", "native/Cargo.toml",
           "--example", name, "--", *args]  # fmt: skip
    binary = ROOT / "native" / "target" / "release" / "examples" / name
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        if not binary.exists():
            print(f"rust example {name}: not run (no cargo and no built binary)")
            return None
        out = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as exc:
        print(f"rust example {name}: not run ({exc})")
        return None
    if out.returncode != 0:
        print(f"rust example {name}: failed: {out.stderr.strip().splitlines()[-1:]}")
        return None
    return out.stdout.strip().splitlines()


def rust_figures() -> None:
    lines = _example("book_replay", str(ESH4), "30")
    if lines is not None:
        print("rust end to end (native/examples/book_replay.rs, best and median of 30):")
        for line in lines:
            print(f"  {line}")
    lines = _example("tick_to_decision", str(ESH4))
    if lines is not None:
        print(
            "tick to decision in process (native/examples/tick_to_decision.rs: record -> L3 "
            "book -> incremental signal -> pre-trade risk -> order out, HDR histogram):"
        )
        for line in lines:
            print(f"  {line}")


def main(rounds: int) -> None:
    if not ESH4.exists():
        print(f"book: skipped ({ESH4} is absent)")
        return
    frame = replay(ESH4)
    events = frame.attrs["replay"]["records"]
    t_ours = median_ms(lambda: replay(ESH4), rounds)
    print(
        f"ours   replay() -> DataFrame {frame.shape}: {t_ours:7.1f} ms "
        f"({events / t_ours / 1e3:.1f} M records/s)"
    )
    rows = {"ours": t_ours}
    t_dict = median_ms(lambda: dict_book(ESH4), max(3, rounds // 3))
    rows["python dict book"] = t_dict
    print(f"python dict book (databento_dbn decode + apply): {t_dict:7.1f} ms")
    naut = peer_json("nautilus-time", rounds)
    if isinstance(naut, str):
        print(f"nautilus_trader: {naut}")
    else:
        d, a = statistics.median(naut["decode_ms"]), statistics.median(naut["apply_ms"])
        rows["nautilus_trader"] = d + a
        print(f"nautilus_trader 1.221 (decode {d:.1f} ms + apply {a:.1f} ms): {d + a:7.1f} ms")
    hft = peer_json("hftbacktest-time", max(3, rounds // 3))
    if isinstance(hft, str):
        print(f"hftbacktest: {hft}")
    else:
        c, r = statistics.median(hft["convert_ms"]), statistics.median(hft["replay_ms"])
        rows["hftbacktest"] = c + r
        print(f"hftbacktest (convert {c:.1f} ms + replay {r:.1f} ms): {c + r:7.1f} ms")
    print("ratios (peer time / ours; > 1 means ours is faster):")
    for name, t in rows.items():
        if name != "ours":
            print(f"  {name:18s} {t / t_ours:6.1f}x")
    rust_figures()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
