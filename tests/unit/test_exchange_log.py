"""The sim-l3 exchange's inbound log: complete lines only, a torn last line left out."""

from __future__ import annotations

from pathlib import Path

from workbench.execution.brokers.exchange_log import ExchangeLog


def test_a_torn_last_line_is_left_out_and_cut_off(tmp_path: Path) -> None:
    log = ExchangeLog(tmp_path / "exchange.log")
    assert log.read() == ([], [0])
    log.append({"k": "O", "i": 0})
    log.append({"k": "S", "ref": "wb-0000001"})
    log.close()
    with open(log.path, "ab") as fh:
        fh.write(b'{"k":"B","i"')  # killed mid-write
    entries, offsets = log.read()
    assert entries == [{"k": "O", "i": 0}, {"k": "S", "ref": "wb-0000001"}]
    assert offsets[0] == 0
    assert offsets[-1] == len(b'{"k":"O","i":0}\n{"k":"S","ref":"wb-0000001"}\n')
    log.truncate(offsets[-1])
    log.append({"k": "B", "i": 0})
    assert log.read()[0][-1] == {"k": "B", "i": 0}
    log.truncate(offsets[1])  # from the second call on
    log.close()
    assert log.read()[0] == [{"k": "O", "i": 0}]
