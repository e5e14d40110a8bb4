"""Fetch: download, verify and extract archives, pipelined and safe.

1. Every sidecar digest is read; an archive without one is absent (the caller listed only
   complete archives).
2. For ``bootstrap``/``flatten``, the member index of every archive (a skippable zstd frame at
   its end) is read first, and two archives writing the same path are refused before anything
   is extracted. Archives without an index (TheRock's, xz) are listed after download instead.
3. Downloads stream through sha256 into a temporary file (never held in memory) in the cache
   dir, else a temporary directory outside the output dir; a digest
   mismatch is downloaded again once, then reported; the cache never keeps a corrupt file.
4. Each verified archive is extracted while the next ones download. From a local store
   without a cache dir, an archive is read once: hashed while it is extracted (with every
   safety check), and on a digest mismatch every path it wrote is removed and the fetch fails.
5. ``bootstrap`` writes ``{stage dir}.prebuilt`` markers only after every archive verified and
   extracted; stale markers of the stage dirs being fetched are removed first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from action_lib.artifacts.archive import CHUNK, HashingWriter, Index, file_tail, read_index
from action_lib.artifacts.extract import (
    LAYOUTS,
    Claims,
    Layout,
    SafeRoot,
    check_overlaps,
    extract,
    list_members,
)
from action_lib.artifacts.names import format_digest, parse_digest, sidecar
from action_lib.artifacts.plan import Remote
from action_lib.artifacts.push import Moved, ProblemsError, Status
from action_lib.errors import InputError, OperationError, RockshardError
from action_lib.inputs.suggest import unknown
from action_lib.stores.base import OnBytes, Store
from action_lib.stores.local import sweep_temps, temp_path

MARKER_SUFFIX = ".prebuilt"


class CorruptArchiveError(OperationError):
    """An archive's content does not match its sidecar digest, twice."""


@dataclass(frozen=True, kw_only=True)
class FetchOptions:
    """How to fetch: layout (dirs, bootstrap, flatten), extract or not, cache dir, parallelism."""

    layout: Layout = "dirs"
    extract: bool = True
    cache_dir: Path | None = None
    jobs: int = 2


@dataclass
class FetchResult:
    """What a fetch did."""

    moved: list[Moved] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    files: int = 0
    content_bytes: int = 0
    copied_links: list[str] = field(default_factory=list)


def hash_file(path: Path, progress: OnBytes | None = None) -> str:
    """sha256 hex digest of a file, streamed."""
    sha = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            sha.update(view[:n])
            if progress is not None:
                progress(n)
    return sha.hexdigest()


class _Fetch:
    def __init__(
        self,
        store: Store,
        run: str,
        remotes: Sequence[Remote],
        output_dir: Path,
        options: FetchOptions,
        progress: OnBytes | None,
    ) -> None:
        if options.layout not in LAYOUTS:
            raise InputError(str(unknown("layout", options.layout, LAYOUTS, listing="layouts")))
        for remote in remotes:
            # Files are only ever written (cache, output, spool) under names rockshard built.
            if remote.filename != remote.name.archive(remote.compression):
                raise OperationError(f"'{remote.filename}' is not an archive name: refused")
        self.store = store
        self.run = run
        self.remotes = sorted(remotes, key=lambda r: (-r.size, r.filename))
        self.output_dir = output_dir
        self.options = options
        self.progress = progress
        self.jobs = max(1, options.jobs)
        self.digests: dict[str, str] = {}
        self.indexes: dict[str, Index | None] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.result = FetchResult()
        self.prefixes: set[str] = set()
        self.root = SafeRoot(output_dir)
        self.claims = Claims() if options.layout != "dirs" else None
        self.spool: Path | None = None
        self.verify_while_extracting: set[str] = set()

    # -- stage 1 and 2: digests and indexes ----------------------------------------------
    def read_digest(self, remote: Remote) -> None:
        name = sidecar(remote.filename)
        text = self.store.read_text(self.run, name)
        if text is None:
            raise OperationError(
                f"{remote.filename}: its sidecar vanished from {self.store.location(self.run)}"
            )
        self.digests[remote.filename] = parse_digest(
            text, f"{self.store.location(self.run)}/{name}"
        )

    def read_remote_index(self, remote: Remote) -> None:
        index = None
        if remote.compression == "zstd":
            local = self.store.local_path(self.run, remote.filename)
            if local is not None:
                index = read_index(file_tail(local), remote.size)
            else:
                index = read_index(
                    lambda n: self.store.read_tail(self.run, remote.filename, remote.size, n),
                    remote.size,
                )
        self.indexes[remote.filename] = index

    # -- stage 3: acquire (download + verify) ---------------------------------------------
    def acquire(self, remote: Remote) -> tuple[Path, Status]:
        if self.stop.is_set():
            raise _CancelledError()
        digest = self.digests[remote.filename]
        opts = self.options
        local = self.store.local_path(self.run, remote.filename)
        if local is not None and opts.cache_dir is None and opts.extract:
            if not local.is_file():
                raise OperationError(f"{local} is absent")
            with self.lock:
                self.verify_while_extracting.add(remote.filename)
            return local, "fetched"
        target_dir = opts.cache_dir or (self.output_dir if not opts.extract else self.spool_dir())
        target_dir.mkdir(parents=True, exist_ok=True)
        final = target_dir / remote.filename
        if opts.cache_dir is not None:
            sweep_temps(target_dir, None)  # what killed fetches of this host left
        if opts.cache_dir is not None and final.is_file():
            if hash_file(final) == digest:
                return final, "cached"
            final.unlink()  # the cache never keeps a corrupt file
        got = ""
        for _ in range(2):
            temp = temp_path(final)
            try:
                with temp.open("wb") as f:
                    hashing = HashingWriter(f)
                    self.store.download(self.run, remote.filename, hashing, self.progress)
                got = hashing.sha.hexdigest()
                if got == digest:
                    temp.replace(final)
                    return final, "fetched"
            finally:
                temp.unlink(missing_ok=True)
        raise CorruptArchiveError(
            f"{remote.filename}: sha256 {got} does not match its sidecar {digest} "
            "(downloaded twice); nothing was extracted from it"
        )

    def spool_dir(self) -> Path:
        # Outside the output dir: an archive being extracted must never reach another
        # archive's verified download.
        with self.lock:
            if self.spool is None:
                base = Path(tempfile.gettempdir())
                sweep_temps(base, None)  # spool dirs of killed fetches of this host
                self.spool = temp_path(base / "rockshard-download")
                self.spool.mkdir()
            return self.spool

    # -- stage 4: extract -----------------------------------------------------------------
    def verified_index(self, remote: Remote, path: Path) -> Index | None:
        if remote.compression != "zstd":
            return None
        index = read_index(file_tail(path), path.stat().st_size)
        if remote.filename in self.indexes and self.indexes[remote.filename] != index:
            raise OperationError(f"{remote.filename}: changed in the store during the fetch")
        return index

    def on_manifest(self, manifest: tuple[str, ...]) -> None:
        if self.options.layout != "bootstrap":
            return
        for prefix in manifest:
            marker = prefix + MARKER_SUFFIX
            self.root.ensure_dir(marker.rpartition("/")[0], "marker")
            self.root.clear(marker, "marker")  # never a marker over a directory being rewritten
            with self.lock:
                self.prefixes.add(prefix)

    def extract_one(self, remote: Remote, path: Path, index: Index | None) -> None:
        if self.stop.is_set():
            raise _CancelledError()
        digest = self.digests[remote.filename]
        verify = remote.filename in self.verify_while_extracting
        written: list[str] = []
        with path.open("rb", buffering=0) as raw:
            source = _HashingReader(raw, self.progress) if verify else raw
            try:
                done = extract(
                    source,  # type: ignore[arg-type]
                    remote.compression,
                    self.root,
                    self.options.layout,
                    remote.name.stem,
                    remote.filename,
                    claims=self.claims,
                    index=index,
                    on_manifest=self.on_manifest,
                    written=written,
                )
            except RockshardError:
                if isinstance(source, _HashingReader):
                    self.check_digest(remote, source, digest, written)
                raise
            if isinstance(source, _HashingReader):
                self.check_digest(remote, source, digest, written)
        with self.lock:
            self.result.files += done.files
            self.result.content_bytes += done.bytes
            self.result.copied_links.extend(done.copied_links)

    def check_digest(
        self, remote: Remote, source: _HashingReader, digest: str, written: list[str]
    ) -> None:
        """The whole archive was read through ``source``: on a mismatch, take back every
        path it wrote and fail."""
        got = source.finish()
        if got == digest:
            return
        for rel in reversed(written):
            full = self.root.full(rel)
            if full.is_symlink() or full.is_file():
                full.unlink()
        raise CorruptArchiveError(
            f"{remote.filename}: sha256 {got} does not match its sidecar {digest}; "
            "what was extracted from it was removed"
        )

    # -- orchestration --------------------------------------------------------------------
    def execute(self) -> FetchResult:
        try:
            return self._execute()
        finally:
            if self.spool is not None:
                shutil.rmtree(self.spool, ignore_errors=True)

    def _execute(self) -> FetchResult:
        extracting = self.options.extract
        with ThreadPoolExecutor(max_workers=max(4, self.jobs)) as small:
            _all(small, self.read_digest, self.remotes)
            if extracting and self.options.layout != "dirs":
                _all(small, self.read_remote_index, self.remotes)
        eager = not extracting or self.options.layout == "dirs" or all(self.indexes.values())
        if extracting and eager and self.options.layout != "dirs":
            check_overlaps(
                ((r.filename, r.name.stem, self.indexes[r.filename]) for r in self.remotes),  # type: ignore[misc]
                self.options.layout,
            )
        moved: dict[str, Moved] = {}
        errors: list[BaseException] = []
        acquired: dict[str, tuple[Path, Index | None]] = {}
        extracts: list[Future[None]] = []

        def on_extracted(future: Future[None]) -> None:
            if future.exception() is not None:
                self.stop.set()

        with ThreadPoolExecutor(self.jobs) as dl, ThreadPoolExecutor(self.jobs) as ex:
            downloads = {dl.submit(self.acquire, r): r for r in self.remotes}
            for future in as_completed(downloads):
                remote = downloads[future]
                if future.cancelled():
                    continue
                try:
                    path, status = future.result()
                    moved[remote.filename] = Moved(
                        remote.filename, remote.size, self.digests[remote.filename], status
                    )
                    if extracting:
                        index = self.verified_index(remote, path)
                        acquired[remote.filename] = (path, index)
                        if eager and not self.stop.is_set():
                            job = ex.submit(self.extract_one, remote, path, index)
                            job.add_done_callback(on_extracted)
                            extracts.append(job)
                except BaseException as exc:
                    errors.append(exc)
                    self.stop.set()
                    for other in downloads:
                        other.cancel()
            if not errors and extracting and not eager:
                extracts = self.deferred_extract(ex, acquired)
            for job in extracts:
                if not job.cancelled() and job.exception() is not None:
                    errors.append(job.exception())  # type: ignore[arg-type]
        if not errors and extracting:
            try:  # links from different archives can chain outside together
                self.root.verify_links(list(self.root.links), "fetch")
            except RockshardError as exc:
                errors.append(exc)
        self.raise_errors(errors)
        if not extracting:
            for remote in self.remotes:
                self.store_sidecar_copy(remote)
        self.result.moved = sorted(moved.values())
        if self.options.layout == "bootstrap" and extracting:
            self.write_markers()
        return self.result

    def deferred_extract(
        self, ex: ThreadPoolExecutor, acquired: dict[str, tuple[Path, Index | None]]
    ) -> list[Future[None]]:
        listed: list[tuple[str, str, Index]] = []
        final: dict[str, Index | None] = {}
        for remote in self.remotes:
            path, index = acquired[remote.filename]
            if index is None:
                with path.open("rb") as raw:
                    index = list_members(raw, remote.compression, remote.filename)
            final[remote.filename] = index
            listed.append((remote.filename, remote.name.stem, index))
        check_overlaps(listed, self.options.layout)
        return [
            ex.submit(self.extract_one, r, acquired[r.filename][0], final[r.filename])
            for r in self.remotes
        ]

    def store_sidecar_copy(self, remote: Remote) -> None:
        target = self.output_dir / sidecar(remote.filename)
        temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        temp.write_text(
            format_digest(self.digests[remote.filename]), encoding="utf-8", newline="\n"
        )
        temp.replace(target)
        if self.options.cache_dir is not None:
            cached = self.options.cache_dir / remote.filename
            dest = self.output_dir / remote.filename
            if cached.resolve() != dest.resolve():
                temp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
                try:
                    os.link(cached, temp)
                except OSError:
                    shutil.copyfile(cached, temp)
                temp.replace(dest)

    def write_markers(self) -> None:
        for prefix in sorted(self.prefixes):
            marker = prefix + MARKER_SUFFIX
            self.root.ensure_dir(marker.rpartition("/")[0], "marker")
            full = self.root.clear(marker, "marker")
            fd = os.open(
                full, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644
            )
            os.close(fd)
            self.result.markers.append(marker)

    @staticmethod
    def raise_errors(errors: list[BaseException]) -> None:
        real = [e for e in errors if not isinstance(e, _CancelledError)]
        if not real:
            return
        lines: list[str] = []
        for exc in real:
            if isinstance(exc, RockshardError):
                lines.extend(line for line in exc.lines() if line not in lines)
            elif isinstance(exc, OSError):
                lines.append(f"{exc.filename or ''}: {exc.strerror or exc}")
            else:
                raise exc
        raise ProblemsError(lines)


class _HashingReader:
    """A raw archive read through sha256 (and progress), for the decompressor."""

    def __init__(self, raw: BinaryIO, progress: OnBytes | None) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        if self.progress is not None and data:
            self.progress(len(data))
        return data

    def readable(self) -> bool:
        return True

    def finish(self) -> str:
        """Read what the decompressor left (the index frame, trailing bytes); the digest."""
        while self.read(CHUNK):
            pass
        return self.sha.hexdigest()


class _CancelledError(Exception):
    """An archive skipped because another one failed."""


def _all(pool: ThreadPoolExecutor, fn: Callable[[Remote], None], remotes: Sequence[Remote]) -> None:
    for future in [pool.submit(fn, r) for r in remotes]:
        future.result()


def fetch(
    store: Store,
    run: str,
    remotes: Sequence[Remote],
    output_dir: Path,
    options: FetchOptions,
    progress: OnBytes | None = None,
) -> FetchResult:
    """Fetch ``remotes`` from ``store`` into ``output_dir``; see the module docstring.

    Raises OperationError (one line per problem) when anything fails; then no marker is
    written over a directory that may be incomplete.
    """
    return _Fetch(store, run, remotes, output_dir, options, progress).execute()
