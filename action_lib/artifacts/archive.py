"""Deterministic artifact archives, streamed: the same directory always gives the same bytes.

Members are sorted with ``artifact_manifest.txt`` first; mtime, uid, gid and owner names are
normalised; permissions, symlinks and hard links are kept; special files are refused. zstd
archives end with a zstd *skippable frame* holding the member index (every decoder ignores it):
a fetch reads it to check two archives for overlapping paths before extracting anything.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import stat
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, Protocol, cast

import zstandard

from action_lib.artifacts.names import MANIFEST
from action_lib.artifacts.tarfmt import (
    BLOCK,
    DIRECTORY,
    HARDLINK,
    REGULAR,
    SYMLINK,
    Member,
    encode_header,
    end_of_archive,
)
from action_lib.errors import InputError, OperationError
from action_lib.inputs.suggest import unknown

CHUNK = 1 << 20
DEFAULT_LEVELS = {"zstd": 3, "xz": 6}
COMPRESSIONS = tuple(DEFAULT_LEVELS)
# A fixed job size: zstd's multi-threaded output depends on it (not on the worker count), and
# 2 MiB jobs keep a compressor near 20 MB of memory whatever the file sizes.
ZSTD_JOB_SIZE = 2 << 20
_SKIPPABLE_MAGIC = 0x184D2A5E
_INDEX_TAG = b"RSHIDX01"
_FOOTER = struct.Struct("<I8s")


class _Sink(Protocol):
    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...


@dataclass(frozen=True)
class Index:
    """An archive's manifest lines and members, in archive order (manifest member excluded)."""

    manifest: tuple[str, ...]
    members: tuple[Member, ...]

    def to_bytes(self) -> bytes:
        """Canonical JSON, so the index (and the archive) is byte-stable."""
        rows = [[m.path, m.kind, m.size, m.mode, m.link] for m in self.members]
        data = {"v": 1, "manifest": list(self.manifest), "members": rows}
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()

    @staticmethod
    def from_bytes(raw: bytes) -> Index:
        """Parse an index; OperationError when malformed."""
        try:
            data = json.loads(raw)
            members = tuple(
                Member(str(p), str(k), int(s), int(m), str(ln))
                for p, k, s, m, ln in data["members"]
            )
            return Index(tuple(str(x) for x in data["manifest"]), members)
        except (ValueError, TypeError, KeyError) as exc:
            raise OperationError(f"malformed archive index: {exc}") from None


@dataclass(frozen=True)
class ArchiveInfo:
    """A written archive: sha256 hex digest, compressed size, content bytes, member count."""

    digest: str
    size: int
    content_bytes: int
    members: int


class HashingWriter:
    """Writes through to ``out`` while hashing (sha256) and counting."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)


def check_manifest_line(line: str, where: str) -> str:
    """A manifest line must be a relative path without '..'; returns it '/'-normalised."""
    posix = PurePosixPath(line)
    if (
        not line
        or line.startswith(("/", "\\"))
        or "\\" in line
        or ".." in posix.parts
        or (len(line) > 1 and line[1] == ":")
    ):
        raise OperationError(
            f"{where}: manifest entry '{line}' is not a relative path inside the build"
        )
    return posix.as_posix()


def read_manifest(text: str, where: str) -> tuple[str, ...]:
    """Non-empty manifest lines, each checked."""
    return tuple(
        check_manifest_line(ln.rstrip("\r"), where) for ln in text.split("\n") if ln.strip()
    )


def collect(
    artifact_dir: Path, only: tuple[str, ...] | None = None
) -> tuple[tuple[str, ...], list[tuple[Member, Path]]]:
    """The manifest and the sorted members of an artifact directory, with their source paths.

    Every path must lie under a manifest prefix (TheRock's readers require it); special files
    are refused. Hard-linked files become one file and hard links to it. With ``only`` (the
    manifest of a tree archive, such as a product's ``dist``), the directory needs no manifest
    file and entries outside those prefixes are left out.
    """
    manifest_path = artifact_dir / MANIFEST
    if only is not None:
        manifest = tuple(check_manifest_line(p, str(artifact_dir)) for p in only)
    elif not manifest_path.is_file():
        raise InputError(f"{artifact_dir}: no {MANIFEST}: not an artifact directory")
    else:
        manifest = read_manifest(manifest_path.read_text(encoding="utf-8"), str(manifest_path))
    ancestors = {
        str(PurePosixPath(p).parents[i])
        for p in manifest
        for i in range(len(PurePosixPath(p).parts) - 1)
    }
    prefixes = set(manifest)
    found: list[tuple[str, os.stat_result, Path]] = []

    def walk(directory: Path, prefix: str) -> None:
        with os.scandir(directory) as it:
            for entry in it:
                rel = prefix + entry.name
                path = Path(entry.path)
                if rel == MANIFEST:
                    continue
                info = entry.stat(follow_symlinks=False)
                if rel in ancestors or rel in prefixes:
                    if not stat.S_ISDIR(info.st_mode):
                        raise InputError(f"{path}: manifest prefix '{rel}' is not a directory")
                    if rel in prefixes:
                        walk_all(path, rel + "/")
                    else:
                        walk(path, rel + "/")
                    continue
                if only is not None:
                    continue  # a tree archive holds its prefixes only
                raise InputError(f"{path}: not under any prefix listed in {MANIFEST}")

    def walk_all(directory: Path, prefix: str) -> None:
        with os.scandir(directory) as it:
            for entry in it:
                rel = prefix + entry.name
                info = entry.stat(follow_symlinks=False)
                found.append((rel, info, Path(entry.path)))
                if stat.S_ISDIR(info.st_mode):
                    walk_all(Path(entry.path), rel + "/")

    walk(artifact_dir, "")
    found.sort(key=lambda item: item[0])
    members: list[tuple[Member, Path]] = []
    first_link: dict[tuple[int, int], str] = {}
    for rel, info, path in found:
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            members.append((Member(rel, DIRECTORY, 0, mode), path))
        elif stat.S_ISLNK(info.st_mode):
            members.append((Member(rel, SYMLINK, 0, 0o777, str(path.readlink())), path))
        elif stat.S_ISREG(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if info.st_nlink > 1 and key in first_link:
                members.append((Member(rel, HARDLINK, 0, mode, first_link[key]), path))
                continue
            if info.st_nlink > 1:
                first_link[key] = rel
            members.append((Member(rel, REGULAR, info.st_size, mode), path))
        else:
            raise InputError(
                f"{path}: special file (device, fifo or socket) refused in an artifact"
            )
    return manifest, members


def _copy_file(
    path: Path, size: int, sink: _Sink, buf: bytearray, sha: hashlib._Hash | None = None
) -> None:
    view = memoryview(buf)
    remaining = size
    with path.open("rb", buffering=0) as src:
        while remaining > 0:
            n = src.readinto(view[: min(len(buf), remaining)])
            if not n:
                raise OperationError(f"{path}: file shrank while being archived")
            sink.write(view[:n])
            if sha is not None:
                sha.update(view[:n])
            remaining -= n
    if -size % BLOCK:
        sink.write(bytes(-size % BLOCK))


class _Batcher:
    """Groups small writes (headers, small files) into large ones for the compressor."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.buf = bytearray()
        self.written = 0

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        self.written += len(data)
        if len(data) >= CHUNK:
            self.flush()
            self.sink.write(data)
        else:
            self.buf += data
            if len(self.buf) >= CHUNK:
                self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buf:
            self.sink.write(self.buf)
            self.buf = bytearray()


_local = threading.local()


def _compressor(level: int, threads: int) -> zstandard.ZstdCompressor:
    """One compressor per thread and settings, reused: its buffers are allocated once."""
    cache: dict[tuple[int, int], zstandard.ZstdCompressor] = _local.__dict__.setdefault("cctx", {})
    key = (level, threads)
    if key not in cache:
        params = zstandard.ZstdCompressionParameters.from_level(
            level, threads=threads, job_size=ZSTD_JOB_SIZE, write_checksum=True
        )
        cache[key] = zstandard.ZstdCompressor(compression_params=params)
    return cache[key]


def _index_frame(index: Index) -> bytes:
    compressed = zstandard.ZstdCompressor(level=3).compress(index.to_bytes())
    payload = compressed + _FOOTER.pack(len(compressed), _INDEX_TAG)
    return struct.pack("<II", _SKIPPABLE_MAGIC, len(payload)) + payload


def write_archive(
    artifact_dir: Path,
    out: BinaryIO,
    compression: str = "zstd",
    level: int | None = None,
    threads: int = 1,
    progress: Callable[[int], None] | None = None,
    *,
    only: tuple[str, ...] | None = None,
    contents: dict[str, str] | None = None,
) -> ArchiveInfo:
    """Stream the archive of ``artifact_dir`` into ``out``; nothing is held whole in memory.

    zstd always runs in multi-threaded mode (``threads`` >= 1 workers) with a fixed job size,
    whose output does not depend on the number of workers, so archives are identical on any
    machine. ``only``: archive just these prefixes of a directory without a manifest file (see
    :func:`collect`). ``contents``, when given, receives each member's entry
    (:func:`member_entry`), to name the files that differ when two archives do.
    """
    if compression not in COMPRESSIONS:
        raise InputError(str(unknown("compression", compression, COMPRESSIONS, listing="one of")))
    manifest, members = collect(artifact_dir, only)
    hashing = HashingWriter(out)
    level = DEFAULT_LEVELS[compression] if level is None else level
    compressor: _Sink
    if compression == "zstd":
        cctx = _compressor(level, max(1, threads))
        stream = cctx.stream_writer(cast(IO[bytes], hashing), closefd=False)
        compressor = stream
    elif compression == "xz":
        xz = lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=level)

        class _Xz:
            def write(self, data: bytes | bytearray | memoryview, /) -> int:
                hashing.write(xz.compress(data))
                return len(data)

        compressor = _Xz()
    else:  # pragma: no cover - checked above
        raise AssertionError(compression)
    batch = _Batcher(compressor)
    buf = bytearray(CHUNK)
    content = 0
    manifest_bytes = (
        (artifact_dir / MANIFEST).read_bytes()
        if only is None
        else "".join(f"{line}\n" for line in manifest).encode()
    )
    batch.write(encode_header(Member(MANIFEST, REGULAR, len(manifest_bytes), 0o644)))
    batch.write(manifest_bytes + bytes(-len(manifest_bytes) % BLOCK))
    for member, path in members:
        batch.write(encode_header(member))
        sha = hashlib.sha256() if contents is not None and member.kind == REGULAR else None
        if member.kind == REGULAR:
            if member.size < CHUNK:
                data = path.read_bytes()
                if len(data) != member.size:
                    raise OperationError(f"{path}: file changed while being archived")
                batch.write(data + bytes(-len(data) % BLOCK))
                if sha is not None:
                    sha.update(data)
            else:
                batch.flush()
                _copy_file(path, member.size, batch, buf, sha)
            content += member.size
            if progress is not None:
                progress(member.size)
        if contents is not None:
            contents[member.path] = member_entry(member, sha.hexdigest() if sha else "")
    batch.write(end_of_archive(batch.written))
    batch.flush()
    if compression == "zstd":
        stream.flush(zstandard.FLUSH_FRAME)
        hashing.write(_index_frame(Index(manifest, tuple(m for m, _ in members))))
    else:
        hashing.write(xz.flush())
    return ArchiveInfo(hashing.sha.hexdigest(), hashing.size, content, len(members) + 1)


def member_entry(member: Member, digest: str = "") -> str:
    """What a member holds, in one comparable string: ``file <sha256> <mode>``, ``link ->
    <target>``, ``hardlink => <path>``, ``dir <mode>``."""
    if member.kind == REGULAR:
        return f"file {digest} {member.mode:o}"
    if member.kind == SYMLINK:
        return f"link -> {member.link}"
    if member.kind == HARDLINK:
        return f"hardlink => {member.link}"
    return f"dir {member.mode:o}"


def read_index(read_tail: Callable[[int], bytes], size: int) -> Index | None:
    """The member index at the end of a zstd archive of ``size`` bytes, or None when absent.

    ``read_tail(n)`` returns the last ``n`` bytes of the archive.
    """
    if size < _FOOTER.size + 8:
        return None
    tail = read_tail(min(size, 1 << 16))
    length, tag = _FOOTER.unpack(tail[-_FOOTER.size :])
    if tag != _INDEX_TAG:
        return None
    frame_len = 8 + length + _FOOTER.size
    if frame_len > size:
        return None
    if frame_len > len(tail):
        tail = read_tail(frame_len)
    frame = tail[-frame_len:]
    magic, payload_len = struct.unpack("<II", frame[:8])
    if magic != _SKIPPABLE_MAGIC or payload_len != length + _FOOTER.size:
        return None
    try:
        raw = zstandard.ZstdDecompressor().decompress(
            frame[8 : 8 + length], max_output_size=1 << 30
        )
    except zstandard.ZstdError as exc:
        raise OperationError(f"damaged archive index: {exc}") from None
    return Index.from_bytes(raw)


def file_tail(path: Path) -> Callable[[int], bytes]:
    """A ``read_tail`` for a local file."""

    def read_tail(n: int) -> bytes:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - n))
            return f.read(n)

    return read_tail
