"""``replay`` of a DBN file without order-book records (bars, ...) says so, naming the file's
schema and the schemas it reads, instead of returning an empty frame."""

from __future__ import annotations

from pathlib import Path

import pytest
import zstandard

from tests.conftest import real_data_path
from tests.fakes.databento_gateway import OhlcvBar, make_ohlcv_dbn
from workbench.book import replay
from workbench.book.errors import BookFileError

BARS = [
    OhlcvBar.at(f"2025-11-03T14:3{k}", "MCLZ5", 42001, 71.2, 71.3, 71.1, 71.25, 5) for k in range(3)
]


@pytest.mark.parametrize("suffix", [".dbn", ".dbn.zst"])
def test_replay_of_bars_names_the_schema(tmp_path: Path, suffix: str) -> None:
    data = make_ohlcv_dbn(BARS)
    path = tmp_path / f"bars.ohlcv-1m{suffix}"
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if suffix.endswith("zst") else data)
    with pytest.raises(BookFileError, match=r"holds ohlcv-1m records.*mbo or mbp-10") as info:
        replay(path)
    assert str(path) in info.value.message
    assert info.value.hint is not None
    assert "mbp-10" in info.value.hint


def test_replay_of_a_real_bar_file() -> None:
    path = real_data_path("nautilus", "futures-esu4-nqu4-20240701.ohlcv-1m.dbn.zst")
    with pytest.raises(BookFileError, match="holds ohlcv-1m records"):
        replay(path)


def test_replay_of_a_real_mbp10_file_still_works() -> None:
    path = real_data_path("databento-python", "GLBX.MDP3", "test_data.mbp-10.dbn.zst")
    assert len(replay(path)) > 0
