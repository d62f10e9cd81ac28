"""Image files made to attack a decoder: a few hundred KB that claim 144 megapixels, 16-bit grey, animations. Built
with zlib row by row, so making a bomb costs no more memory than its file."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width: int, height: int, rows, depth: int = 8, colour_type: int = 0, extra: bytes = b"") -> bytes:
    """A PNG whose scanlines (without filter bytes) come from ``rows`` (one bytes object per row)."""
    compressor = zlib.compressobj(9)
    compressed = b"".join(compressor.compress(b"\0" + row) for row in rows) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", compressed)
            + chunk(b"IEND", b""))


def bomb_png(width: int, height: int) -> bytes:
    """A black grey-scale PNG of ``width`` x ``height``: about 140 KB for 12000x12000."""
    row = bytes(width)
    return png_bytes(width, height, (row for _ in range(height)))


def text_chunk_bomb_png() -> bytes:
    """A 4x4 PNG with a compressed text chunk that inflates to 200 MB (about 200 KB on disk)."""
    comment = chunk(b"zTXt", b"Comment\0\0" + zlib.compress(bytes(200 << 20), 9))
    return png_bytes(4, 4, (bytes(4) for _ in range(4)), extra=comment)


def grey16_png(values: np.ndarray, transparent: int | None = None) -> bytes:
    """A 16-bit grey-scale PNG of ``values`` (uint16 ``[H, W]``), optionally with a tRNS grey level."""
    extra = chunk(b"tRNS", struct.pack(">H", transparent)) if transparent is not None else b""
    big_endian = values.astype(">u2")
    return png_bytes(values.shape[1], values.shape[0], (row.tobytes() for row in big_endian), depth=16,
                     extra=extra)


def animated(path: Path, format: str, frames: int = 3) -> Path:
    """An animated GIF or PNG (APNG) of ``frames`` differently coloured frames."""
    pictures = [Image.new("RGBA", (8, 8), (60 * n, 200 - 50 * n, 90, 255)) for n in range(frames)]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format=format, save_all=True, append_images=pictures[1:], duration=100, loop=0)
    path.write_bytes(buffer.getvalue())
    return path
