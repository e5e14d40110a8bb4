"""Push: archive a stage's artifact directories and publish them in a store.

Publishing is atomic for readers: the archive first, its ``.sha256sum`` sidecar last (an archive
without a sidecar is absent). Identical content already there is a no-op; different content is
refused, naming both digests, unless ``overwrite``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from action_lib.artifacts.archive import COMPRESSIONS, write_archive
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
from action_lib.stores.base import OnBytes, Store

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
) -> Moved:
    """Archive ``directory`` straight into the store and publish it (archive, then sidecar)."""
    filename = name.archive(compression)
    upload = store.begin_upload(run, filename)
    try:
        info = write_archive(directory, upload.file, compression, level, threads, progress)
        old_text = store.read_text(run, sidecar(filename))
        old = (
            parse_digest(old_text, store.location(run) + "/" + sidecar(filename))
            if old_text
            else None
        )
        if old == info.digest:
            upload.abort()
            return Moved(filename, info.size, info.digest, "unchanged")
        if old is not None and not overwrite:
            upload.abort()
            raise OperationError(
                f"{filename}: different content is already in {store.location(run)} "
                f"(stored sha256 {old}, new sha256 {info.digest}); use --overwrite to replace it"
            )
        if old is not None:
            store.delete(run, sidecar(filename))  # readers see it absent, not mismatched
        upload.commit()
    except BaseException:
        upload.abort()
        raise
    store.write_text(run, sidecar(filename), format_digest(info.digest))
    return Moved(filename, info.size, info.digest, "overwritten" if old else "uploaded")


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
) -> list[Moved]:
    """Push every directory, ``jobs`` at a time (largest first); all failures in one error."""
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
