"""Populate artifact directories from stage directories, as a descriptor says.

``{output}/{name}_{component}_{target}/`` holds the claimed paths relative to the build dir and an
``artifact_manifest.txt`` listing the stage dirs it covers. For a target-specific artifact built
for family F, files under a path component naming one of F's gfx targets go to ``_F``, every
other file to ``_generic`` (the generic half, identical across the families' shards).
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.artifacts.descriptor import Descriptor
from action_lib.artifacts.names import GENERIC, MANIFEST, ArtifactName
from action_lib.errors import Finding, FindingsError, InputError, OperationError
from action_lib.families import base_target

MAX_LISTED = 20


@dataclass(frozen=True)
class Entry:
    """A path under a stage dir: kind is 'd' (directory), 'f' (file), 'l' (symlink), 'o' (other)."""

    relpath: str  # relative to the stage dir, '/'-separated
    kind: str


@dataclass(frozen=True)
class Claim:
    """What one component claimed: stage dir -> entries, in scan order."""

    component: str
    basedirs: tuple[tuple[str, tuple[Entry, ...]], ...]


@dataclass(frozen=True)
class PopulatedDir:
    """One written artifact directory."""

    name: ArtifactName
    path: Path
    files: int
    bytes: int


def scan(stage_dir: Path) -> list[Entry]:
    """Every path below ``stage_dir``, sorted; symlinks are not followed."""
    out: list[Entry] = []

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_symlink():
                out.append(Entry(rel, "l"))
            elif entry.is_dir(follow_symlinks=False):
                out.append(Entry(rel, "d"))
                walk(entry.path, rel + "/")
            elif entry.is_file(follow_symlinks=False):
                out.append(Entry(rel, "f"))
            else:
                out.append(Entry(rel, "o"))

    walk(str(stage_dir), "")
    return out


def claim_files(descriptor: Descriptor, root_dir: Path) -> list[Claim]:
    """Sort every file of the descriptor's stage dirs into exactly one component.

    Components claim in order (lib, run, dbg, dev, doc, test unless ``extends`` says otherwise);
    a file claimed by an earlier component is skipped by the later ones. Raises FindingsError
    for a missing non-optional stage dir, unclaimed files the options do not allow, and special
    files (devices, fifos, sockets).
    """
    findings: list[Finding] = []
    scans: dict[str, list[Entry] | None] = {}
    for path in descriptor.basedirs:
        full = root_dir / path
        scans[path] = scan(full) if full.is_dir() else None
    claimed: set[tuple[str, str]] = set()
    claims: list[Claim] = []
    for component in descriptor.components.values():
        per_dir: list[tuple[str, tuple[Entry, ...]]] = []
        for basedir in component.basedirs:
            entries = scans[basedir.path]
            if entries is None:
                if not basedir.optional:
                    findings.append(
                        Finding(
                            descriptor.path,
                            basedir.line,
                            "stage-dir-missing",
                            f"stage dir '{basedir.path}' of component '{component.name}' does not "
                            f"exist under {root_dir}",
                            "build it, or mark it optional = true",
                        )
                    )
                per_dir.append((basedir.path, ()))
                continue
            mine = []
            for entry in entries:
                key = (basedir.path, entry.relpath)
                if key in claimed or not basedir.predicate.matches(entry.relpath):
                    continue
                claimed.add(key)
                mine.append(entry)
                if entry.kind == "o":
                    findings.append(
                        Finding(
                            descriptor.path,
                            basedir.line,
                            "special-file",
                            f"'{basedir.path}/{entry.relpath}' is a device, fifo or socket",
                            "artifacts hold files, directories and links only",
                        )
                    )
            per_dir.append((basedir.path, tuple(mine)))
        claims.append(Claim(component.name, tuple(per_dir)))
    unmatched = sorted(
        f"{path}/{e.relpath}"
        for path, entries in scans.items()
        for e in entries or ()
        if e.kind != "d"
        and (path, e.relpath) not in claimed
        and descriptor.unmatched.matches(e.relpath)
    )
    if unmatched:
        shown = ", ".join(unmatched[:MAX_LISTED])
        more = len(unmatched) - MAX_LISTED
        findings.append(
            Finding(
                descriptor.path,
                descriptor.options_line,
                "unmatched-files",
                f"{len(unmatched)} file(s) no component claims: {shown}"
                + (f" (and {more} more)" if more > 0 else ""),
                "add include patterns, or list them in [options] unmatched_exclude",
            )
        )
    if findings:
        raise FindingsError(findings)
    return claims


def _is_target_path(path: str, targets: frozenset[str]) -> bool:
    return any(base_target(part) in targets for part in path.split("/"))


class _Writer:
    """Builds one artifact directory under a temporary name, then renames it into place."""

    def __init__(self, output_dir: Path, name: ArtifactName, root_dir: Path) -> None:
        self.name = name
        self.root_dir = root_dir
        self.final = output_dir / name.stem
        self.temp = output_dir / f".{name.stem}.partial-{os.getpid()}"
        if self.temp.exists():
            shutil.rmtree(self.temp)
        self.temp.mkdir(parents=True)
        self.inodes: dict[tuple[int, int], Path] = {}
        self.dirs: set[str] = set()
        self.files = 0
        self.bytes = 0

    def add(self, basedir: str, entry: Entry) -> None:
        rel = f"{basedir}/{entry.relpath}"
        src = self.root_dir / rel
        dst = self.temp / rel
        if entry.kind == "d":
            self.mkdirs(rel)
            return
        self.mkdirs(rel.rpartition("/")[0])
        self.files += 1
        if entry.kind == "l":
            target = src.readlink()
            try:
                dst.symlink_to(target)
            except OSError:  # Windows without symlink rights: a copy of the target
                shutil.copy2(src, dst)
            return
        info = src.stat()
        key = (info.st_dev, info.st_ino)
        first = self.inodes.get(key) if info.st_nlink > 1 else None
        if first is not None:
            try:
                os.link(first, dst)
                return
            except OSError:
                pass
        shutil.copyfile(src, dst)
        dst.chmod(stat.S_IMODE(info.st_mode))
        self.bytes += info.st_size
        if info.st_nlink > 1:
            self.inodes[key] = dst

    def mkdirs(self, rel: str) -> None:
        """Create ``rel`` and its parents with their source directories' permissions, so the
        archive does not depend on the umask."""
        if not rel or rel in self.dirs:
            return
        self.mkdirs(rel.rpartition("/")[0])
        dst = self.temp / rel
        dst.mkdir(exist_ok=True)
        dst.chmod(stat.S_IMODE((self.root_dir / rel).stat().st_mode) | 0o700)
        self.dirs.add(rel)

    def finish(self, manifest: Sequence[str]) -> PopulatedDir:
        (self.temp / MANIFEST).write_text(
            "".join(f"{m}\n" for m in manifest), encoding="utf-8", newline="\n"
        )
        old = self.final.parent / f".{self.name.stem}.old-{os.getpid()}"
        if self.final.exists():
            self.final.rename(old)
        self.temp.rename(self.final)
        if old.exists():
            shutil.rmtree(old)
        return PopulatedDir(self.name, self.final, self.files, self.bytes)


def populate(
    descriptor: Descriptor,
    root_dir: Path,
    output_dir: Path,
    target: str,
    gfx_targets: Iterable[str] = (),
) -> list[PopulatedDir]:
    """Write one artifact dir per declared component (two halves when ``target`` is a family).

    Components that are not declared but claim files (``dbg`` scans every stage dir) get a
    directory too. ``gfx_targets`` are the family's targets, used to split the halves.
    """
    if target != GENERIC and not gfx_targets:
        raise InputError(f"target '{target}' has no gfx targets to split the artifact by")
    targets = frozenset(base_target(t) for t in gfx_targets)
    claims = claim_files(descriptor, root_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written: list[PopulatedDir] = []
    try:
        for claim in claims:
            component = descriptor.components[claim.component]
            has_files = any(entries for _, entries in claim.basedirs)
            if not component.declared and not has_files:
                continue
            halves = [GENERIC] if target == GENERIC else [GENERIC, target]
            writers = {
                half: _Writer(
                    output_dir, ArtifactName(descriptor.artifact, claim.component, half), root_dir
                )
                for half in halves
            }
            for basedir, entries in claim.basedirs:
                for entry in entries:
                    half = (
                        target
                        if target != GENERIC
                        and _is_target_path(f"{basedir}/{entry.relpath}", targets)
                        else GENERIC
                    )
                    writers[half].add(basedir, entry)
            manifest = [basedir for basedir, _ in claim.basedirs]
            written.extend(writers[half].finish(manifest) for half in halves)
        fresh = {d.name.stem for d in written}
        for comp_name in descriptor.components:  # stale dirs of an earlier populate
            for half in sorted({GENERIC, target}):
                stale = output_dir / ArtifactName(descriptor.artifact, comp_name, half).stem
                if stale.name not in fresh and stale.is_dir():
                    shutil.rmtree(stale)
    except OSError as exc:
        raise OperationError(f"populating {output_dir}: {exc}") from None
    return written
