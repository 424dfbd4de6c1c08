"""The zstd frame walk that finds a compressed stream cut short without decompressing it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import zstandard

from workbench.data.zstd_frames import file_frame_problem, frame_problem, starts_like_zstd

# ~1 MB that compresses to several blocks (a block holds at most 128 KiB of output)
PAYLOAD = b"".join(f"{k:08d},{random.Random(k).random():.6f}\n".encode() for k in range(60_000))


def _streamed(data: bytes, *, checksum: bool = False) -> bytes:
    """Compressed the way a streaming writer does it: no content size, many blocks."""
    cobj = zstandard.ZstdCompressor(write_checksum=checksum).compressobj()
    return b"".join(cobj.compress(data[k : k + 65536]) for k in range(0, len(data), 65536)) + (
        cobj.flush()
    )


def _skippable(payload: bytes) -> bytes:
    return (0x184D2A50).to_bytes(4, "little") + len(payload).to_bytes(4, "little") + payload


WHOLE = {
    "one shot, content size": zstandard.ZstdCompressor().compress(PAYLOAD),
    "one shot, checksum": zstandard.ZstdCompressor(write_checksum=True).compress(PAYLOAD),
    "streamed": _streamed(PAYLOAD),
    "streamed, checksum": _streamed(PAYLOAD, checksum=True),
    "two frames": zstandard.compress(PAYLOAD[:5000]) + _streamed(PAYLOAD[5000:]),
    "skippable then data": _skippable(b"metadata") + _streamed(PAYLOAD),
    "tiny": zstandard.compress(b"x"),
    "empty content": zstandard.compress(b""),
}


@pytest.mark.parametrize("name", list(WHOLE))
def test_complete_streams_pass_and_round_trip(name: str) -> None:
    data = WHOLE[name]
    assert starts_like_zstd(data)
    assert frame_problem(data) is None
    reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    assert reader.read() in (PAYLOAD, PAYLOAD[:5000] + PAYLOAD[5000:], b"x", b"")


@pytest.mark.parametrize("name", [n for n in WHOLE if len(WHOLE[n]) > 100])
def test_every_cut_is_found(name: str) -> None:
    data = WHOLE[name]
    cuts = {4, 5, 6, 9, 13, 20, 300, len(data) // 2, len(data) - 4, len(data) - 1}
    cuts |= set(random.Random(len(data)).sample(range(1, len(data)), 40))
    for cut in sorted(cuts):
        problem = frame_problem(data[:cut])
        assert problem is not None, f"{name}: cut at {cut} of {len(data)} not found"
        assert "cut short" in problem or "ends inside" in problem or "stray" in problem


def test_the_cut_that_the_decoder_misses_is_found() -> None:
    """The zstd reader returns the complete blocks of a cut stream and no error."""
    data = _streamed(PAYLOAD, checksum=True)
    cut = data[:300]
    assert zstandard.ZstdDecompressor().stream_reader(cut).read() == b""  # no error: the bug
    assert frame_problem(cut) == "the zstd stream is cut short inside frame 1, at byte 300"


def test_stray_bytes_after_the_last_frame() -> None:
    data = _streamed(PAYLOAD)
    assert frame_problem(data + b"\0\0") == f"2 stray bytes after frame 1, at byte {len(data):,}"
    assert frame_problem(data + bytes(16)) == (
        f"no zstd frame at byte {len(data):,}, after 1 complete frame(s)"
    )


def test_not_zstd_at_all() -> None:
    assert not starts_like_zstd(b"DBN\x03")
    assert not starts_like_zstd(bytes(4))
    assert not starts_like_zstd(b"\x28\xb5")
    assert frame_problem(b"") == "the file is empty"
    assert frame_problem(bytes(64)) == "no zstd frame at byte 0, after 0 complete frame(s)"


def test_a_file_through_a_memory_map(tmp_path: Path) -> None:
    good = tmp_path / "good.zst"
    good.write_bytes(WHOLE["streamed, checksum"])
    cut = tmp_path / "cut.zst"
    cut.write_bytes(WHOLE["streamed, checksum"][:1000])
    empty = tmp_path / "empty.zst"
    empty.write_bytes(b"")
    assert file_frame_problem(good) is None
    assert file_frame_problem(cut) == "the zstd stream is cut short inside frame 1, at byte 1,000"
    assert file_frame_problem(empty) == "the file is empty"
