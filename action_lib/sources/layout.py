"""Where things live in a checkout: the paths each source set owns, and artifact descriptors.

Pure: every function takes the topology, the ``.gitmodules`` records and lists of paths.
Paths are repository-relative, ``/``-separated, without leading or trailing ``/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from action_lib.sources.gitmodules import GitSubmodule
from action_lib.topology.model import Topology

DESCRIPTOR_NAME = re.compile(r"^artifact(?:[-_](?P<stem>.+))?\.toml$")


def norm_path(path: str) -> str:
    """``path`` with ``/`` separators, without ``./`` and surrounding slashes."""
    text = path.replace("\\", "/").strip()
    while text.startswith("./"):
        text = text[2:]
    return text.strip("/")


def is_under(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or lies inside it."""
    return prefix == "" or path == prefix or path.startswith(prefix + "/")


def parent_dir(path: str) -> str:
    """The folder holding ``path`` (``""`` for a file at the root)."""
    return path.rpartition("/")[0]


def ancestors(path: str) -> list[str]:
    """The proper ancestors of ``path``, root (``""``) first."""
    parts = path.split("/")
    return [""] + ["/".join(parts[:i]) for i in range(1, len(parts))]


@dataclass(frozen=True)
class Owned:
    """A path a source set owns: a path prefix, a submodule, or an external git source."""

    source_set: str
    kind: str  # "path" | "submodule" | "external"
    name: str  # the prefix, the submodule name or the external source name
    path: str


def owned_paths(topology: Topology, submodules: Sequence[GitSubmodule]) -> tuple[Owned, ...]:
    """Every path owned by a source set, sorted by path.

    Submodules the topology names but ``.gitmodules`` does not declare have no path and are
    left out (the source plan reports them).
    """
    paths = {s.name: s.path for s in submodules}
    out: list[Owned] = []
    for ss in topology.source_sets.values():
        out.extend(Owned(ss.name, "path", norm_path(p), norm_path(p)) for p in ss.path_prefixes)
        out.extend(
            Owned(ss.name, "submodule", name, norm_path(paths[name]))
            for name in ss.submodules
            if name in paths
        )
        out.extend(
            Owned(ss.name, "external", ext.name, norm_path(ext.path))
            for ext in ss.external_git_sources
        )
    return tuple(sorted(out, key=lambda o: (o.path, o.source_set, o.kind)))


def owner_of(path: str, owned: Iterable[Owned]) -> Owned | None:
    """The owned path that contains ``path`` (the deepest one), or None."""
    best: Owned | None = None
    for entry in owned:
        if is_under(path, entry.path) and (best is None or len(entry.path) > len(best.path)):
            best = entry
    return best


def descriptor_artifact(topology: Topology, path: str) -> str | None:
    """The artifact an ``artifact*.toml`` descriptor at ``path`` describes, or None.

    ``artifact-<name>.toml`` (or ``artifact_<name>.toml``) names it, case-insensitively, or
    as the suffix of one artifact's name (``artifact-expat.toml`` of ``sysdeps-expat``), or
    after a folder's name (``core/artifact-core-kfdtest.toml`` of ``kfdtest``);
    ``artifact.toml`` takes the name of its folder or the nearest ancestor folder that is an
    artifact's name (``third-party/sysdeps/linux/artifact.toml`` is ``sysdeps``).
    """
    pure = PurePosixPath(norm_path(path))
    match = DESCRIPTOR_NAME.match(pure.name)
    if match is None:
        return None
    lower = {name.lower(): name for name in topology.artifacts}
    stem = (match.group("stem") or "").lower()
    if stem:
        if stem in lower:
            return lower[stem]
        suffixed = sorted(n for n in topology.artifacts if n.lower().endswith("-" + stem))
        if len(suffixed) == 1:
            return suffixed[0]
        for folder in pure.parent.parts:
            rest = stem.removeprefix(folder.lower() + "-")
            if rest != stem and rest in lower:
                return lower[rest]
    for folder in reversed(pure.parent.parts):
        if folder.lower() in lower:
            return lower[folder.lower()]
    return None


def descriptor_locations(
    topology: Topology, files: Iterable[str]
) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """From a list of repository files: artifact -> folders of its descriptors, and the
    descriptors that name no artifact of the topology (both sorted)."""
    out: dict[str, set[str]] = {}
    unknown: list[str] = []
    for raw in files:
        path = norm_path(raw)
        if DESCRIPTOR_NAME.match(PurePosixPath(path).name) is None:
            continue
        artifact = descriptor_artifact(topology, path)
        if artifact is None:
            unknown.append(path)
            continue
        out.setdefault(artifact, set()).add(parent_dir(path))
    return {k: tuple(sorted(v)) for k, v in sorted(out.items())}, tuple(sorted(unknown))


def folder_groups(
    topology: Topology, locations: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Folder -> artifact groups of the artifacts whose descriptors it holds (sorted)."""
    out: dict[str, set[str]] = {}
    for artifact, folders in locations.items():
        group = topology.artifacts[artifact].artifact_group
        for folder in folders:
            out.setdefault(folder, set()).add(group)
    return {k: tuple(sorted(v)) for k, v in sorted(out.items())}
