"""Which files make two archives of one artifact differ.

When the generic half of a per-arch stage differs between two of its jobs, a digest says only
*that* they differ; the path of each differing file says where to look (a timestamp in a DLL, a
build path in a header). A member's content is one string (:func:`~action_lib.artifacts.
archive.member_entry`): the file's sha256 and mode, a link's target.
"""

from __future__ import annotations

import hashlib
import lzma
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import zstandard

from action_lib.artifacts.archive import collect, member_entry
from action_lib.artifacts.extract import open_stream
from action_lib.artifacts.names import MANIFEST, try_parse_archive
from action_lib.artifacts.tarfmt import BLOCK, REGULAR, TarFormatError, read_member
from action_lib.errors import RockshardError
from action_lib.stores.base import Store

Contents = Mapping[str, str]  # member path -> member_entry
CHUNK = 1 << 20
SHOWN = 8  # paths named in a one-line message


def directory_contents(artifact_dir: Path) -> dict[str, str]:
    """The entries of the archive that ``artifact_dir`` would make."""
    _, members = collect(artifact_dir)
    out = {MANIFEST: member_entry_of_file(artifact_dir / MANIFEST, 0o644)}
    for member, path in members:
        digest = _hash_file(path) if member.kind == REGULAR else ""
        out[member.path] = member_entry(member, digest)
    return out


def member_entry_of_file(path: Path, mode: int) -> str:
    """The entry of a regular file written with ``mode``."""
    return f"file {_hash_file(path)} {mode:o}"


def _hash_file(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(CHUNK):
            sha.update(block)
    return sha.hexdigest()


def archive_contents(raw: BinaryIO, compression: str, archive: str) -> dict[str, str]:
    """The entries of an archive, read as a stream (nothing extracted)."""
    stream = open_stream(raw, compression)

    def read(n: int) -> bytes:
        data = stream.read(n)
        while len(data) < n:
            more = stream.read(n - len(data))
            if not more:
                break
            data += more
        return data

    out: dict[str, str] = {}
    try:
        while (member := read_member(read, archive)) is not None:
            digest = ""
            if member.kind == REGULAR:
                sha = hashlib.sha256()
                remaining = member.size
                while remaining > 0:
                    block = stream.read(min(CHUNK, remaining))
                    if not block:
                        raise TarFormatError(f"{archive}: truncated tar archive")
                    sha.update(block)
                    remaining -= len(block)
                read(-member.size % BLOCK)
                digest = sha.hexdigest()
            out[member.path] = member_entry(member, digest)
    except (zstandard.ZstdError, lzma.LZMAError, EOFError) as exc:
        raise TarFormatError(f"{archive}: damaged compressed data: {exc}") from None
    return out


def differing_paths(
    old: Contents, new: Contents, names: tuple[str, str] = ("the first", "the second")
) -> list[str]:
    """Paths whose entries differ, or that only one side has (marked with its name), sorted."""
    out = []
    for path in sorted(set(old) | set(new)):
        if path not in new:
            out.append(f"{path} (only in {names[0]})")
        elif path not in old:
            out.append(f"{path} (only in {names[1]})")
        elif old[path] != new[path]:
            out.append(path)
    return out


def describe(paths: list[str], limit: int = SHOWN) -> str:
    """``a, b, c and 5 more``, or "" for none."""
    if not paths:
        return ""
    shown = ", ".join(paths[:limit])
    more = len(paths) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def stored_versus_directory(store: Store, run: str, filename: str, artifact_dir: Path) -> str:
    """The files of ``artifact_dir`` that differ from the archive ``filename`` in the store,
    for a refusal message (the first side is the stored archive). Never raises: a failure to
    compare becomes the message."""
    parsed = try_parse_archive(filename)
    compression = parsed[1] if parsed else "zstd"
    try:
        with tempfile.TemporaryFile() as spool:
            store.download(run, filename, spool)
            spool.seek(0)
            stored = archive_contents(spool, compression, filename)
        local = directory_contents(artifact_dir)
    except (RockshardError, OSError) as exc:
        text = exc.lines()[0] if isinstance(exc, RockshardError) else str(exc)
        return f"the files could not be compared ({text})"
    found = differing_paths(stored, local, ("the stored archive", "the new one"))
    if not found:
        return "the same files with the same content and modes"
    return f"files that differ: {describe(found)}"
