"""Push: archive a stage's artifact directories and publish them in a store.

Publishing is atomic for readers: the archive first, its ``.sha256sum`` sidecar last (an archive
without a sidecar is absent). Identical content already there is a no-op; different content is
refused, naming both digests and the files that differ, unless ``overwrite``.

Publishing is create-if-absent (the store's exclusive create or conditional write), so two
shards pushing one name at the same instant are told apart: identical content, both succeed;
different content, exactly one fails naming both digests. An archive under the final name with
no sidecar is either another push between its two writes (its sidecar follows within
moments) or what a killed push left: it is replaced once it is older than ``grace`` seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from action_lib.artifacts.archive import COMPRESSIONS, HashingWriter, write_archive
from action_lib.artifacts.compare import stored_versus_directory
from action_lib.artifacts.names import (
    ArtifactName,
    format_digest,
    parse_digest,
    sidecar,
    try_parse_stem,
)
from action_lib.artifacts.plan import MissingArtifactsError, Wanted
from action_lib.errors import InputError, OperationError, RockshardError
from action_lib.inputs.suggest import unknown
from action_lib.stores.base import AlreadyExistsError, OnBytes, Store, Upload

Status = Literal[
    "uploaded", "unchanged", "overwritten", "fetched", "cached", "copied", "would copy"
]


@dataclass(frozen=True, order=True)
class Moved:
    """One archive moved to or from a store."""

    filename: str
    size: int
    digest: str
    status: Status
    # member path -> entry (archive.member_entry), when asked for: the generic halves of
    # per-arch stages, so that a convergence failure can name the files that differ
    contents: Mapping[str, str] | None = field(default=None, compare=False)


class ProblemsError(OperationError):
    """Several failures, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            self.problems[0] if len(self.problems) == 1 else f"{len(self.problems)} problems"
        )

    def lines(self) -> list[str]:
        return list(self.problems)


def find_artifact_dirs(
    artifacts_dir: Path, wanted: Sequence[Wanted]
) -> list[tuple[ArtifactName, Path]]:
    """The artifact directories under ``artifacts_dir`` for ``wanted``; raises
    MissingArtifactsError listing every wanted (artifact, target) with no directory."""
    keys = {(w.artifact, w.target) for w in wanted}
    found: list[tuple[ArtifactName, Path]] = []
    if artifacts_dir.is_dir():
        for entry in sorted(artifacts_dir.iterdir()):
            name = try_parse_stem(entry.name)
            if name is not None and entry.is_dir() and (name.name, name.target) in keys:
                found.append((name, entry))
    have = {(n.name, n.target) for n, _ in found}
    missing = [w for w in wanted if (w.artifact, w.target) not in have]
    if missing:
        raise MissingArtifactsError(str(artifacts_dir), missing)
    return found


def _dir_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*"))


GRACE_SECONDS = 120.0  # an unpublished archive younger than this may be a live push's


class _Discard:
    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        return len(data)


def stored_digest(store: Store, run: str, name: str) -> str | None:
    """The sha256 of a stored file: recorded with it, else computed; None when absent."""
    info = store.stat(run, name)
    if info is None:
        return None
    if info.digest:
        return info.digest
    hashing = HashingWriter(_Discard())  # type: ignore[arg-type]
    try:
        store.download(run, name, hashing)
    except OperationError:
        if store.stat(run, name) is None:
            return None
        raise
    return hashing.sha.hexdigest()


class DifferentContentError(OperationError):
    """Different content is already published under an archive's name."""

    def __init__(
        self, filename: str, location: str, stored: str, new: str, files: str = ""
    ) -> None:
        self.filename, self.location, self.stored, self.new = filename, location, stored, new
        detail = f"; {files}" if files else ""
        super().__init__(
            f"{filename}: different content is already in {location} "
            f"(stored sha256 {stored}, new sha256 {new}{detail}); use --overwrite to replace it"
        )

    def naming(self, files: str) -> DifferentContentError:
        """The same refusal, naming the files that differ."""
        return DifferentContentError(self.filename, self.location, self.stored, self.new, files)


def _differs(filename: str, location: str, stored: str, new: str) -> OperationError:
    return DifferentContentError(filename, location, stored, new)


def _sidecar_digest(store: Store, run: str, filename: str) -> str | None:
    text = store.read_text(run, sidecar(filename))
    return parse_digest(text, store.location(run) + "/" + sidecar(filename)) if text else None


def publish(
    store: Store,
    run: str,
    filename: str,
    upload: Upload,
    digest: str,
    *,
    overwrite: bool = False,
    grace: float = GRACE_SECONDS,
    progress: OnBytes | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Status:
    """Publish a written upload (archive, then sidecar), create-if-absent; its status:
    uploaded, unchanged or overwritten. Different content raises OperationError."""
    location = store.location(run)
    old = _sidecar_digest(store, run, filename)
    if old == digest:
        upload.abort()
        return "unchanged"
    if old is not None and not overwrite:
        upload.abort()
        raise _differs(filename, location, old, digest)
    if old is not None:
        store.delete(run, sidecar(filename))  # readers see it absent, not mismatched
        upload.commit(progress, digest=digest)
        store.write_text(run, sidecar(filename), format_digest(digest))
        return "overwritten"
    ours = True
    for _ in range(5):
        try:
            upload.commit(progress, digest=digest, if_absent=True)
            break
        except AlreadyExistsError:
            pass
        info = store.stat(run, filename)
        existing = stored_digest(store, run, filename) if info is not None else None
        if existing is None:
            continue  # removed meanwhile: try again
        if existing == digest:  # identical content, published by another push (or ours)
            upload.abort()
            ours = False
            break
        # Different content without a sidecar yet: a live push between its two writes, or
        # the leftover of a killed one. Wait for its sidecar, at most until it is stale.
        deadline = time.monotonic() + max(0.0, grace - (time.time() - info.modified))  # type: ignore[union-attr]
        other = _sidecar_digest(store, run, filename)
        while other is None and time.monotonic() < deadline:
            sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            other = _sidecar_digest(store, run, filename)
        if other is not None:
            upload.abort()
            if other == digest:
                return "unchanged"
            raise _differs(filename, location, other, digest)
        store.delete(run, filename)  # a dead push's archive; nobody published it
    else:
        upload.abort()
        raise OperationError(f"{filename}: could not publish in {location}: the name kept changing")
    try:
        store.write_text(run, sidecar(filename), format_digest(digest), if_absent=True)
    except AlreadyExistsError:
        other = _sidecar_digest(store, run, filename)
        if other == digest:
            return "unchanged"
        raise _differs(filename, location, other or "(unreadable)", digest) from None
    if ours:  # compare after writing: our archive is still the one under the name
        now = store.stat(run, filename)
        if now is None or now.identity != upload.identity:
            store.delete(run, sidecar(filename))
            raise OperationError(
                f"{filename}: replaced in {location} by another push while it was published"
            )
    return "uploaded" if ours else "unchanged"


def push_one(
    store: Store,
    run: str,
    name: ArtifactName,
    directory: Path,
    *,
    compression: str = "zstd",
    level: int | None = None,
    threads: int = 1,
    overwrite: bool = False,
    progress: OnBytes | None = None,
    record_contents: bool = False,
) -> Moved:
    """Archive ``directory`` straight into the store and publish it (archive, then sidecar).

    A refusal names the files that differ from the stored archive. With ``record_contents`` the
    result lists each member's content (:class:`Moved`)."""
    filename = name.archive(compression)
    upload = store.begin_upload(run, filename)
    contents: dict[str, str] | None = {} if record_contents else None
    try:
        info = write_archive(
            directory, upload.file, compression, level, threads, progress, contents=contents
        )
        status = publish(store, run, filename, upload, info.digest, overwrite=overwrite)
    except DifferentContentError as exc:
        upload.abort()
        raise exc.naming(stored_versus_directory(store, run, filename, directory)) from None
    except BaseException:
        upload.abort()
        raise
    return Moved(filename, info.size, info.digest, status, contents)


def push(
    store: Store,
    run: str,
    dirs: Sequence[tuple[ArtifactName, Path]],
    *,
    compression: str = "zstd",
    level: int | None = None,
    jobs: int = 2,
    overwrite: bool = False,
    progress: OnBytes | None = None,
    record_contents: Sequence[ArtifactName] = (),
) -> list[Moved]:
    """Push every directory, ``jobs`` at a time (largest first); all failures in one error.

    The results of the archives in ``record_contents`` list their members' contents."""
    if compression not in COMPRESSIONS:
        raise InputError(str(unknown("compression", compression, COMPRESSIONS, listing="one of")))
    jobs = max(1, jobs)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    ordered = sorted(dirs, key=lambda item: (-_dir_size(item[1]), item[0]))
    moved: list[Moved] = []
    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(
                push_one,
                store,
                run,
                name,
                path,
                compression=compression,
                level=level,
                threads=threads,
                overwrite=overwrite,
                progress=progress,
                record_contents=name in record_contents,
            )
            for name, path in ordered
        ]
        for future in futures:
            try:
                moved.append(future.result())
            except RockshardError as exc:
                problems.extend(exc.lines())
            except OSError as exc:
                problems.append(f"{exc.filename or ''}: {exc.strerror or exc}")
    if problems:
        raise ProblemsError(problems)
    return sorted(moved)


def copy_run(
    store: Store,
    source_run: str,
    run: str,
    artifacts: Sequence[str] | None,
    *,
    dry_run: bool = False,
    overwrite: bool = False,
) -> list[Moved]:
    """Copy complete archives (of ``artifacts``, or all) from ``source_run`` into ``run``,
    server-side where the store can: archive first, sidecar last; identical is a no-op."""
    from action_lib.artifacts.plan import present

    source = present(store.listing(source_run))
    if not source:
        raise OperationError(f"no artifacts in {store.location(source_run)}")
    wanted = set(artifacts) if artifacts is not None else None
    moved: list[Moved] = []
    problems: list[str] = []
    for name, remote in sorted(source.items()):
        if wanted is not None and name.name not in wanted:
            continue
        text = store.read_text(source_run, sidecar(remote.filename))
        if text is None:
            continue
        digest = parse_digest(text, f"{store.location(source_run)}/{sidecar(remote.filename)}")
        old_text = store.read_text(run, sidecar(remote.filename))
        old = parse_digest(old_text, store.location(run)) if old_text else None
        if old == digest:
            moved.append(Moved(remote.filename, remote.size, digest, "unchanged"))
            continue
        if old is not None and not overwrite:
            problems.append(
                f"{remote.filename}: different content is already in {store.location(run)} "
                f"(stored sha256 {old}, source sha256 {digest}); use --overwrite to replace it"
            )
            continue
        if not dry_run:
            if old is not None:
                store.delete(run, sidecar(remote.filename))
            store.copy(source_run, remote.filename, run)
            store.write_text(run, sidecar(remote.filename), format_digest(digest))
        moved.append(
            Moved(remote.filename, remote.size, digest, "would copy" if dry_run else "copied")
        )
    if problems:
        raise ProblemsError(problems)
    return moved
