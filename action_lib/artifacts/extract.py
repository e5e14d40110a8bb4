"""Safe, streaming extraction of artifact archives.

Nothing is ever written outside the output directory: absolute paths, ``..``, links pointing
outside, writes through a symlink (in the archive or already on disk) that leads outside, and
special files are all refused. Three layouts:

- ``dirs``: each archive into ``{out}/artifacts/{name}_{component}_{target}/`` (manifest kept,
  what was there before removed): TheRock's ``artifact_manager.py fetch`` layout, the one
  ``push --build-dir {out}`` reads back;
- ``bootstrap``: paths as they are, relative to a build dir (``{out}/math-libs/x/stage/...``);
- ``flatten``: each file relative to its manifest prefix (``{out}/lib/...``).
"""

from __future__ import annotations

import contextlib
import io
import lzma
import os
import shutil
import stat
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal, get_args

import zstandard

from action_lib.artifacts.archive import CHUNK, Index, read_manifest
from action_lib.artifacts.names import MANIFEST
from action_lib.artifacts.tarfmt import (
    BLOCK,
    DIRECTORY,
    HARDLINK,
    REGULAR,
    SYMLINK,
    Member,
    TarFormatError,
    TarReader,
    read_member,
)
from action_lib.errors import OperationError

Layout = Literal["dirs", "bootstrap", "flatten"]
LAYOUTS: tuple[Layout, ...] = get_args(Layout)
DIRS_ROOT = "artifacts"  # the dirs layout: {out}/artifacts/{archive stem}/, as TheRock
MAX_MANIFEST = 1 << 20
MAX_REPORTED = 10
_WINDOWS = sys.platform == "win32"
_O_BINARY = getattr(os, "O_BINARY", 0)


class UnsafeArchiveError(OperationError):
    """An archive tries to write outside the output directory, or holds a special file."""


class OverlapError(OperationError):
    """Two archives write the same path."""


def open_stream(raw: BinaryIO, compression: str) -> BinaryIO:
    """A decompressed stream over an archive file object (``readinto`` fills what it can)."""
    if compression == "zstd":
        reader: BinaryIO = zstandard.ZstdDecompressor().stream_reader(
            raw, read_size=CHUNK, read_across_frames=True
        )
        return reader
    return io.BufferedReader(lzma.LZMAFile(raw, "rb"), CHUNK)


def safe_relpath(path: str, where: str) -> str:
    """``path`` normalised ('.' parts dropped); UnsafeArchiveError when absolute or with '..'."""
    if "\0" in path or path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise UnsafeArchiveError(f"{where}: absolute member path '{path}' refused")
    if _WINDOWS and ("\\" in path or ":" in path):
        raise UnsafeArchiveError(f"{where}: member path '{path}' is not portable to Windows")
    parts = [p for p in PurePosixPath(path).parts if p != "."]
    if ".." in parts:
        raise UnsafeArchiveError(f"{where}: member path '{path}' with '..' refused")
    if not parts:
        raise UnsafeArchiveError(f"{where}: empty member path")
    return "/".join(parts)


def destination(
    layout: Layout, stem: str, manifest: Iterable[str], path: str, where: str
) -> str | None:
    """Where member ``path`` goes, relative to the output dir; None when it is not extracted."""
    if path == MANIFEST:
        return f"{DIRS_ROOT}/{stem}/{MANIFEST}" if layout == "dirs" else None
    if layout == "dirs":
        return f"{DIRS_ROOT}/{stem}/{path}"
    best = ""
    for prefix in manifest:
        if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > len(best):
            best = prefix
    if not best:
        raise UnsafeArchiveError(
            f"{where}: member '{path}' is outside the prefixes of its manifest"
        )
    if layout == "bootstrap":
        return path
    rest = path[len(best) + 1 :]
    return rest or None


def check_overlaps(indexes: Iterable[tuple[str, str, Index]], layout: Layout) -> None:
    """Raise OverlapError when two archives would write the same path (before extracting).

    ``indexes`` holds (archive name, stem, index) for every archive of one fetch.
    """
    owners: dict[str, tuple[str, bool]] = {}
    clashes: list[str] = []
    for archive, stem, index in sorted(indexes, key=lambda item: item[0]):
        for member in index.members:
            rel = destination(
                layout, stem, index.manifest, safe_relpath(member.path, archive), archive
            )
            if rel is None:
                continue
            is_dir = member.kind == DIRECTORY
            prior = owners.get(rel)
            if prior is None or (prior[1] and is_dir):
                owners.setdefault(rel, (archive, is_dir))
            elif len(clashes) < MAX_REPORTED:
                clashes.append(f"'{rel}' is written by both {prior[0]} and {archive}")
    if clashes:
        raise OverlapError("archives overlap: " + "; ".join(clashes))


@dataclass
class Claims:
    """Paths written so far in one fetch, by archive (thread-safe): a late overlap check."""

    owners: dict[str, tuple[str, bool]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, rel: str, archive: str, is_dir: bool) -> None:
        with self.lock:
            prior = self.owners.get(rel)
            if prior is None:
                self.owners[rel] = (archive, is_dir)
            elif not (prior[1] and is_dir):
                other = "another member of it" if prior[0] == archive else prior[0]
                raise OverlapError(f"'{rel}' is written by both {other} and {archive}")


class SafeRoot:
    """The output directory; every path is created through checks that it stays inside."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self.real = str(self.root)
        self.verified: set[str] = {""}
        self.through_links: set[str] = set()  # verified dirs reached through a symlink
        self.links: list[str] = []
        self.lock = threading.Lock()

    def inside(self, real: Path) -> bool:
        """True when ``real`` (an absolute path) is the root or below it."""
        text = str(real)
        return text == self.real or text.startswith(self.real.rstrip(os.sep) + os.sep)

    def full(self, rel: str) -> Path:
        """The absolute path of ``rel`` (not resolved)."""
        return self.root.joinpath(*rel.split("/")) if rel else self.root

    def ensure_dir(self, rel: str, where: str) -> None:
        """Create directory ``rel`` (and parents) unless present; refuse any that leads outside."""
        if rel in self.verified:
            return
        parent = rel.rpartition("/")[0]
        self.ensure_dir(parent, where)
        full = self.full(rel)
        try:
            info = full.lstat()
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                full.mkdir()
            info = full.lstat()
        if stat.S_ISLNK(info.st_mode):
            real = full.resolve()
            if not self.inside(real) or not real.is_dir():
                raise UnsafeArchiveError(
                    f"{where}: '{rel}' is a symlink leading outside the output directory"
                )
        elif not stat.S_ISDIR(info.st_mode):
            raise UnsafeArchiveError(f"{where}: '{rel}' exists and is not a directory")
        with self.lock:
            self.verified.add(rel)
            if stat.S_ISLNK(info.st_mode) or parent in self.through_links:
                self.through_links.add(rel)

    def clear(self, rel: str, where: str) -> Path:
        """Make way for a new non-directory at ``rel`` (never following a link); its full path."""
        full = self.full(rel)
        try:
            info = full.lstat()
        except FileNotFoundError:
            return full
        if stat.S_ISDIR(info.st_mode):
            raise UnsafeArchiveError(f"{where}: '{rel}' would replace a directory")
        full.unlink()
        return full

    def replace_dir(self, rel: str, where: str) -> None:
        """Make ``rel`` a new, empty directory: what was there (never followed) is removed."""
        self.ensure_dir(rel.rpartition("/")[0], where)
        full = self.full(rel)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISDIR(full.lstat().st_mode):
                shutil.rmtree(full)
            else:
                full.unlink()
        with self.lock:
            self.verified = {v for v in self.verified if v != rel and not v.startswith(rel + "/")}
        self.ensure_dir(rel, where)

    def add_link(self, rel: str, target: str) -> Path:
        """Create symlink ``rel`` -> ``target`` (checked); a new link can change where earlier
        verified paths lead, so those reached through links are verified again."""
        full = self.clear(rel, "link")
        full.symlink_to(target)
        with self.lock:
            self.links.append(rel)
            self.verified -= self.through_links
            self.through_links.clear()
        return full

    def verify_links(self, rels: list[str], where: str) -> None:
        """Every symlink in ``rels`` must still resolve inside (links can chain); a bad one is
        removed and refused."""
        for rel in rels:
            full = self.full(rel)
            if full.is_symlink() and not self.inside(full.resolve()):
                target = full.readlink()
                full.unlink()
                raise UnsafeArchiveError(
                    f"{where}: symlink '{rel}' -> '{target}' resolves outside the output directory"
                )

    def check_link(self, rel: str, target: str, where: str) -> None:
        """Refuse a symlink at ``rel`` whose target leads outside the output directory."""
        if (
            not target
            or PurePosixPath(target).is_absolute()
            or Path(target).is_absolute()
            or target.startswith("\\")
            or (len(target) > 1 and target[1] == ":")
        ):
            raise UnsafeArchiveError(f"{where}: symlink '{rel}' -> '{target}' is absolute")
        parent = self.full(rel.rpartition("/")[0])
        resolved = parent.joinpath(*target.replace("\\", "/").split("/")).resolve()
        if not self.inside(resolved):
            raise UnsafeArchiveError(
                f"{where}: symlink '{rel}' -> '{target}' points outside the output directory"
            )


@dataclass
class Extracted:
    """One extracted archive."""

    manifest: tuple[str, ...] = ()
    files: int = 0
    bytes: int = 0
    copied_links: list[str] = field(default_factory=list)


class _TarStream(TarReader):
    """A tar stream whose first member must be the artifact manifest."""

    def manifest(self) -> tuple[tuple[str, ...], bytes]:
        first = read_member(self.read, self.archive)
        if (
            first is None
            or first.path != MANIFEST
            or first.kind != REGULAR
            or first.size > MAX_MANIFEST
        ):
            raise TarFormatError(f"{self.archive}: the first member must be {MANIFEST}")
        text = self.read(first.size + (-first.size % BLOCK))[: first.size]
        return read_manifest(text.decode("utf-8", "surrogateescape"), self.archive), text


class _Extractor:
    def __init__(
        self,
        tar: _TarStream,
        root: SafeRoot,
        layout: Layout,
        stem: str,
        claims: Claims | None,
        index: Index | None,
        progress: Callable[[int], None] | None,
        written: list[str] | None = None,
    ) -> None:
        self.written = written if written is not None else []
        self.tar = tar
        self.root = root
        self.layout = layout
        self.stem = stem
        self.archive = tar.archive
        self.claims = claims
        self.expected = iter(index.members) if index is not None else None
        self.index_manifest = index.manifest if index is not None else None
        self.progress = progress
        self.result = Extracted()
        self.files: set[str] = set()
        self.dir_modes: list[tuple[str, int]] = []
        self.deferred_links: list[tuple[str, str]] = []
        self.own_links: list[str] = []

    def run(self, on_manifest: Callable[[tuple[str, ...]], None] | None) -> Extracted:
        manifest, text = self.tar.manifest()
        if self.index_manifest is not None and manifest != self.index_manifest:
            # destinations (and the overlap check made from the index) depend on the manifest
            raise UnsafeArchiveError(f"{self.archive}: manifest differs from the archive's index")
        self.result.manifest = manifest
        if on_manifest is not None:
            on_manifest(manifest)
        if self.layout == "dirs":
            home = f"{DIRS_ROOT}/{self.stem}"
            self.root.replace_dir(home, self.archive)  # nothing stale is pushed back later
            self.root.clear(f"{home}/{MANIFEST}", self.archive).write_bytes(text)
            self.written.append(f"{home}/{MANIFEST}")
        while (member := read_member(self.tar.read, self.archive)) is not None:
            self.one(member, manifest)
        if self.expected is not None and next(self.expected, None) is not None:
            raise UnsafeArchiveError(f"{self.archive}: archive has fewer members than its index")
        self.finish()
        return self.result

    def one(self, member: Member, manifest: tuple[str, ...]) -> None:
        where = self.archive
        if self.expected is not None:
            want = next(self.expected, None)
            if want is None or (want.path, want.kind, want.link) != (
                member.path,
                member.kind,
                member.link,
            ):
                raise UnsafeArchiveError(
                    f"{where}: member '{member.path}' differs from the archive's index"
                )
        path = safe_relpath(member.path, where)
        rel = destination(self.layout, self.stem, manifest, path, where)
        if rel is None:
            self.tar.skip(member.size)
            return
        if self.claims is not None:
            self.claims.claim(rel, self.archive, member.kind == DIRECTORY)
        parent = rel.rpartition("/")[0]
        self.root.ensure_dir(parent, where)
        if member.kind == DIRECTORY:
            self.root.ensure_dir(rel, where)
            self.dir_modes.append((rel, member.mode))
        elif member.kind == REGULAR:
            self.write_file(rel, member)
        elif member.kind == SYMLINK:
            self.root.check_link(rel, member.link, where)
            self.written.append(rel)
            try:
                self.root.add_link(rel, member.link)
                self.own_links.append(rel)
            except OSError:  # Windows without the symlink privilege: copy the target later
                self.deferred_links.append((rel, member.link))
            self.result.files += 1
        elif member.kind == HARDLINK:
            source = destination(
                self.layout, self.stem, manifest, safe_relpath(member.link, where), where
            )
            if source is None or source not in self.files:
                raise UnsafeArchiveError(
                    f"{where}: hard link '{path}' -> '{member.link}' has no earlier file target"
                )
            full = self.root.clear(rel, where)
            self.written.append(rel)
            try:
                os.link(self.root.full(source), full)
            except OSError:
                shutil.copyfile(self.root.full(source), full)
            self.result.files += 1

    def write_file(self, rel: str, member: Member) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY
        full = self.root.full(rel)
        try:
            fd = os.open(full, flags, 0o600)
        except FileExistsError:  # replaced, never written through (it may be a symlink)
            fd = os.open(self.root.clear(rel, self.archive), flags, 0o600)
        self.written.append(rel)
        try:
            self.tar.copy(fd, member.size)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, member.mode & 0o777)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):
            full.chmod(member.mode & 0o777)
        self.files.add(rel)
        self.result.files += 1
        self.result.bytes += member.size
        if self.progress is not None:
            self.progress(member.size)

    def finish(self) -> None:
        self.root.verify_links(self.own_links, self.archive)
        for rel, target in self.deferred_links:
            full = self.root.full(rel)
            source = Path(os.path.normpath(full.parent.joinpath(*target.split("/"))))
            if source.is_dir():
                shutil.copytree(source, full, symlinks=True)
            elif source.exists():
                shutil.copyfile(source, full)
            self.result.copied_links.append(rel)
        for rel, mode in reversed(self.dir_modes):
            self.root.full(rel).chmod((mode & 0o777) | 0o700)


def extract(
    raw: BinaryIO,
    compression: str,
    root: SafeRoot,
    layout: Layout,
    stem: str,
    archive: str,
    *,
    claims: Claims | None = None,
    index: Index | None = None,
    on_manifest: Callable[[tuple[str, ...]], None] | None = None,
    progress: Callable[[int], None] | None = None,
    written: list[str] | None = None,
) -> Extracted:
    """Extract one archive from ``raw`` (the compressed bytes) under ``root``, streaming.

    Every non-directory path created is appended to ``written`` as it is created (so a caller
    can take an archive's files back, even after a failure).
    When ``index`` is given, the members must be exactly those it lists. Raises
    UnsafeArchiveError, OverlapError or TarFormatError (OperationErrors) on any problem.
    """
    try:
        tar = _TarStream(open_stream(raw, compression), archive)
        extractor = _Extractor(tar, root, layout, stem, claims, index, progress, written)
        return extractor.run(on_manifest)
    except (zstandard.ZstdError, lzma.LZMAError, EOFError) as exc:
        raise TarFormatError(f"{archive}: damaged compressed data: {exc}") from None


def list_members(raw: BinaryIO, compression: str, archive: str) -> Index:
    """Read an archive's manifest and members without extracting (for archives with no index)."""
    try:
        tar = _TarStream(open_stream(raw, compression), archive)
        manifest, _ = tar.manifest()
        members = []
        while (member := read_member(tar.read, archive)) is not None:
            members.append(member)
            if member.kind == REGULAR:
                tar.skip(member.size)
        return Index(manifest, tuple(members))
    except (zstandard.ZstdError, lzma.LZMAError, EOFError) as exc:
        raise TarFormatError(f"{archive}: damaged compressed data: {exc}") from None
