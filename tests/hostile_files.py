"""Crafted hostile files, made cheaply in the test run (real formats, real decoders' work).

- :func:`huge_png`: 15,000 x 15,000 px of zeros, ~0.2 MB (zlib of a zero image).
- :func:`epub_with_big_cover`: the iscc-samples EPUB whose cover entry inflates to 2 GiB of real
  deflate data (~2 MB: a full-flush deflate block of 1 MiB of zeros, repeated).
- :func:`long_silent_flac`: 20 h of silence, ~130 KB (one minute encoded by ffmpeg, then its
  frames repeated by ffmpeg's stream copy); fpcalc decodes all of it.
- :func:`long_gap_mp4`: three frames of video, the last ten hours after the others, ~2 KB;
  ffmpeg's frame-rate filter fills the gap frame by frame.
"""

from __future__ import annotations

import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import iscc_samples

SAMPLES = Path(iscc_samples.images()[0]).parents[1]
MIB = 1 << 20


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def huge_png(path: Path, width: int = 15_000, height: int = 15_000) -> Path:
    """A valid 8-bit grayscale PNG of ``width`` x ``height`` black pixels."""
    compressor = zlib.compressobj(9)
    rows = (b"\0" * (width + 1)) * 100  # filter byte + pixels, 100 rows at a time
    idat = b"".join(compressor.compress(rows) for _ in range(height // 100))
    idat += compressor.compress((b"\0" * (width + 1)) * (height % 100)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                     + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))
    return path


def _zeros_entry(mebibytes: int) -> tuple[bytes, int]:
    """Raw deflate data of ``mebibytes`` MiB of zeros, and its CRC-32."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b"\0" * MIB
    # after a full flush the compressor starts afresh: every MiB compresses to the same bytes
    unit = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    return unit * mebibytes + compressor.flush(), crc


def append_stored_deflate(path: Path, name: str, mebibytes: int) -> None:
    """Append an entry ``name`` that inflates to ``mebibytes`` MiB of zeros to a zip file."""
    data, crc = _zeros_entry(mebibytes)
    size = mebibytes * MIB
    raw = path.read_bytes()
    end = raw.rfind(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack("<HII", raw[end + 10:end + 20])
    body, directory = raw[:cd_offset], raw[cd_offset:cd_offset + cd_size]
    encoded = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size,
                        len(encoded), 0) + encoded
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data),
                          size, len(encoded), 0, 0, 0, 0, 0, len(body)) + encoded
    directory += central
    offset = len(body) + len(local) + len(data)
    record = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(directory),
                         offset, 0)
    path.write_bytes(body + local + data + directory + record)


def epub_with_big_cover(path: Path, mebibytes: int = 2048) -> Path:
    """The sample EPUB with its cover image replaced by one inflating to ``mebibytes`` MiB."""
    cover = "EPUB/images/cover.png"
    with zipfile.ZipFile(SAMPLES / "text" / "demo.epub") as source, \
            zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            if info.filename != cover:
                target.writestr(info, source.read(info))
    append_stored_deflate(path, cover, mebibytes)
    return path


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def long_silent_flac(path: Path, hours: int = 20) -> Path:
    """``hours`` of 8 kHz mono silence as FLAC, made in about a second."""
    minute = path.with_suffix(".minute.flac")
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "60", "-c:a", "flac",
            "-compression_level", "0", "-frame_size", "65535", str(minute))
    _ffmpeg("-stream_loop", str(hours * 60 - 1), "-i", str(minute), "-c", "copy", str(path))
    minute.unlink()
    return path


def long_gap_mp4(path: Path, hours: int = 10) -> Path:
    """A tiny H.264 MP4 whose third frame comes ``hours`` after the first two."""
    gap = hours * 3600
    _ffmpeg("-f", "lavfi", "-t", "3", "-i", "color=c=red:s=64x64:r=1",
            "-vf", f"setpts='if(eq(N,2),{gap}/TB,PTS)'", "-fps_mode", "passthrough",
            "-c:v", "libx264", str(path))
    return path
