"""Check that a zstd file ends where its last frame ends, without decompressing it.

A zstd decoder reading a stream that stops inside a frame just stops: the DBN decoder then
sees a shorter (often empty) record stream and reports no error. Walking the frame and block
headers (RFC 8878, section 3.1) finds such a cut by reading 3 bytes per block, so it costs
almost nothing next to decoding.
"""

from __future__ import annotations

import mmap
from pathlib import Path

ZSTD_MAGIC = 0xFD2FB528
_SKIPPABLE_MASK = 0xFFFFFFF0
_SKIPPABLE_MAGIC = 0x184D2A50
_FCS_SIZES = (0, 2, 4, 8)  # by Frame_Content_Size_flag (flag 0 is 1 byte in single-segment mode)
_DICT_ID_SIZES = (0, 1, 2, 4)
_RESERVED_BLOCK_TYPE = 3
_RLE_BLOCK_TYPE = 1


def starts_like_zstd(head: bytes) -> bool:
    """Whether ``head`` (the first 4 bytes or more) opens a zstd or skippable frame."""
    if len(head) < 4:
        return False
    magic = int.from_bytes(head[:4], "little")
    return magic == ZSTD_MAGIC or magic & _SKIPPABLE_MASK == _SKIPPABLE_MAGIC


def frame_problem(data: bytes | mmap.mmap | memoryview) -> str | None:
    """Why ``data`` is not a sequence of complete zstd frames, or None when it is.

    Only the frame structure is checked (headers, block sizes, checksum field); a corrupt
    block body is left to the decoder, which reports it.
    """
    with memoryview(data) as view:
        return _walk(view)


def _walk(view: memoryview) -> str | None:
    size = len(view)
    pos = 0
    frames = 0
    while pos < size:
        if size - pos < 4:
            return f"{size - pos} stray bytes after frame {frames}, at byte {pos:,}"
        magic = int.from_bytes(view[pos : pos + 4], "little")
        if magic & _SKIPPABLE_MASK == _SKIPPABLE_MAGIC:
            if size - pos < 8:
                return f"the file ends inside a skippable frame header at byte {pos:,}"
            length = int.from_bytes(view[pos + 4 : pos + 8], "little")
            pos += 8 + length
            if pos > size:
                return f"the file ends inside skippable frame {frames + 1}, at byte {size:,}"
            frames += 1
            continue
        if magic != ZSTD_MAGIC:
            return f"no zstd frame at byte {pos:,}, after {frames} complete frame(s)"
        end = _frame_end(view, pos + 4)
        if end is None:
            return f"the zstd stream is cut short inside frame {frames + 1}, at byte {size:,}"
        if isinstance(end, str):
            return f"frame {frames + 1}: {end}"
        pos = end
        frames += 1
    if frames == 0:
        return "the file is empty"
    return None


def _frame_end(view: memoryview, pos: int) -> int | str | None:
    """Offset just past the frame whose header starts at ``pos``; None when the data ends
    first; a string when the header is invalid."""
    size = len(view)
    if pos >= size:
        return None
    descriptor = view[pos]
    if descriptor & 0x08:
        return "reserved bit set in the frame header"
    single_segment = bool(descriptor & 0x20)
    fcs_flag = descriptor >> 6
    fcs_size = 1 if fcs_flag == 0 and single_segment else _FCS_SIZES[fcs_flag]
    pos += 1 + (0 if single_segment else 1) + _DICT_ID_SIZES[descriptor & 0x03] + fcs_size
    checksum = 4 if descriptor & 0x04 else 0
    while True:
        if pos + 3 > size:
            return None
        header = int.from_bytes(view[pos : pos + 3], "little")
        last, block_type, block_size = header & 1, (header >> 1) & 3, header >> 3
        if block_type == _RESERVED_BLOCK_TYPE:
            return f"reserved block type at byte {pos:,}"
        pos += 3 + (1 if block_type == _RLE_BLOCK_TYPE else block_size)
        if last:
            break
    pos += checksum
    return pos if pos <= size else None


def file_frame_problem(path: Path) -> str | None:
    """:func:`frame_problem` for a file, read through a memory map (no copy)."""
    with open(path, "rb") as fh:
        if fh.seek(0, 2) == 0:
            return "the file is empty"
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return frame_problem(mapped)
