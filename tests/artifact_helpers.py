"""Helpers for the artifact tests: fake stage builds, and hand-made (hostile) archives."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import zstandard

from action_lib.artifacts.descriptor import parse_descriptor
from action_lib.artifacts.names import GENERIC, MANIFEST
from action_lib.artifacts.populate import populate
from action_lib.families import family_targets
from action_lib.topology import Conditions, Topology
from action_lib.topology.queries import produced_artifacts

DESCRIPTOR = """
[components.lib."{stage}"]
include = ["lib/gfx*/**"]
[components.run."{stage}"]
include = ["bin/**"]
[components.dev."{stage}"]
[components.doc."{stage}"]
"""


def stage_dir_of(topology: Topology, artifact: str) -> str:
    """Where the fake build installs ``artifact``: ``{group}/{artifact}/stage``."""
    return f"{topology.artifacts[artifact].artifact_group}/{artifact}/stage"


def write_stage(build: Path, topology: Topology, artifact: str, family: str) -> None:
    """A stage dir with a library (and its symlink and hard link), a header, a tool, docs and,
    for a target-specific artifact, one kernel per gfx target of ``family``."""
    stage = build / stage_dir_of(topology, artifact)
    (stage / "lib").mkdir(parents=True, exist_ok=True)
    (stage / "include").mkdir(exist_ok=True)
    (stage / "bin").mkdir(exist_ok=True)
    (stage / "share" / "doc").mkdir(parents=True, exist_ok=True)
    seed = hashlib.sha256(artifact.encode()).digest()
    lib = stage / "lib" / f"lib{artifact}.so.1"
    lib.write_bytes(seed * 2000)
    link = stage / "lib" / f"lib{artifact}.so"
    if not link.is_symlink():
        link.symlink_to(lib.name)
    hard = stage / "lib" / f"lib{artifact}.so.1.0"
    if not hard.exists():
        hard.hardlink_to(lib)
    (stage / "include" / f"{artifact}.h").write_text(f"int {artifact.replace('-', '_')}(void);\n")
    tool = stage / "bin" / f"{artifact}-tool"
    tool.write_text("#!/bin/sh\necho tool\n")
    tool.chmod(0o755)
    (stage / "share" / "doc" / "README").write_text(f"{artifact}\n")
    if topology.artifacts[artifact].type == "target-specific" and family:
        for target in family_targets(family):
            kernels = stage / "lib" / target
            kernels.mkdir(exist_ok=True)
            (kernels / f"{artifact}.hsaco").write_bytes(target.encode() * 100)


def build_stage(
    build: Path,
    topology: Topology,
    stage: str,
    family: str = "",
    conditions: Conditions | None = None,
) -> list[str]:
    """Fake-build ``stage`` into ``build`` and populate ``build/artifacts``; returns the artifacts."""
    produced = produced_artifacts(topology, stage, conditions or Conditions("linux"))
    for artifact in produced:
        write_stage(build, topology, artifact, family)
        text = DESCRIPTOR.format(stage=stage_dir_of(topology, artifact))
        descriptor, findings = parse_descriptor(text, "artifact.toml", artifact)
        assert not findings
        specific = topology.artifacts[artifact].type == "target-specific" and family
        target = family if specific else GENERIC
        targets = family_targets(family) if specific else ()
        populate(descriptor, build, build / "artifacts", target, targets)
    return list(produced)


@dataclass(frozen=True)
class Entry:
    """A member of a hand-made archive."""

    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    link: str = ""
    mode: int = 0o644


def craft_archive(
    path: Path, entries: Iterable[Entry], manifest: str = "stage\n", compression: str = "zstd"
) -> str:
    """Write a ``.tar.zst`` with ``artifact_manifest.txt`` first, then ``entries`` as given
    (nothing is checked: this makes hostile archives). Returns the sha256 hex digest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(manifest.encode())
        tar.addfile(info, io.BytesIO(manifest.encode()))
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = entry.kind
            info.mode = entry.mode
            info.linkname = entry.link
            info.size = len(entry.data) if entry.kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(entry.data) if info.size else None)
    data = raw.getvalue()
    if compression == "zstd":
        blob = zstandard.ZstdCompressor(level=3).compress(data)
    else:
        import lzma

        blob = lzma.compress(data, format=lzma.FORMAT_XZ)
    path.write_bytes(blob)
    return hashlib.sha256(blob).hexdigest()


def tree(root: Path) -> dict[str, str]:
    """Every path under ``root`` -> 'dir', 'link:<target>' or the file's sha256 (a comparable
    picture of a directory)."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = f"link:{path.readlink()}"
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
