"""Which archives a stage pushes and fetches. Pure: topology queries, names and listings only.

A target-neutral artifact is ``_generic``; a target-specific one built for family F is its
``_generic`` half plus ``_F``. Components are whatever exists (in the build, or in the store).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from action_lib.artifacts.names import (
    GENERIC,
    SIDECAR_SUFFIX,
    ArtifactName,
    sidecar,
    try_parse_archive,
)
from action_lib.errors import InputError, OperationError
from action_lib.families import family_targets
from action_lib.inputs.paths import component_problems
from action_lib.inputs.suggest import unknown
from action_lib.inputs.untrusted import escape
from action_lib.topology.model import Conditions, Topology
from action_lib.topology.queries import inbound_artifacts, produced_artifacts, require_stage


@dataclass(frozen=True, order=True)
class Wanted:
    """An artifact for one target, and the stage that produces it."""

    artifact: str
    target: str
    stage: str
    component: str = ""  # set when one component is known to be missing


@dataclass(frozen=True, order=True)
class Remote:
    """An archive present in a store (its sidecar is present too)."""

    name: ArtifactName
    compression: str
    filename: str
    size: int


class MissingArtifactsError(OperationError):
    """Artifacts that should exist do not; one line each, with the stage that produces it."""

    def __init__(self, where: str, missing: Sequence[Wanted]) -> None:
        self.missing = tuple(sorted(missing))
        self.where = where
        super().__init__(f"{len(self.missing)} artifact(s) missing from {where}")

    def lines(self) -> list[str]:
        head = f"{len(self.missing)} artifact(s) missing from {self.where}:"
        return [head] + [
            f"  {w.artifact}_{w.component or '*'}_{w.target} (produced by stage '{w.stage or '?'}')"
            + (": its archive has no sidecar (an interrupted push?)" if w.component else "")
            for w in self.missing
        ]


def check_families(families: Iterable[str]) -> tuple[str, ...]:
    """Validate family names (InputError with did-you-mean); returns them de-duplicated."""
    out: dict[str, None] = {}
    for family in families:
        family_targets(family)
        out.setdefault(family, None)
    return tuple(out)


def targets_for(topology: Topology, artifact: str, families: Sequence[str]) -> tuple[str, ...]:
    """``generic``, plus each family for a target-specific artifact."""
    if topology.artifacts[artifact].type != "target-specific":
        return (GENERIC,)
    return (GENERIC, *families)


def _needs_family(
    topology: Topology, stage: str, artifacts: Iterable[str], families: Sequence[str]
) -> None:
    specific = [a for a in artifacts if topology.artifacts[a].type == "target-specific"]
    if topology.build_stages[stage].per_arch and specific and not families:
        raise InputError(
            f"stage '{stage}' is per-arch: give --amdgpu-family (it moves {', '.join(specific)})"
        )


def push_plan(
    topology: Topology, stage: str, conditions: Conditions, families: Sequence[str] = ()
) -> tuple[Wanted, ...]:
    """The artifacts (and targets) ``stage`` produces; a per-arch stage needs one family."""
    require_stage(topology, stage)
    families = check_families(families)
    if len(families) > 1:
        raise InputError(f"a stage job builds one GPU family; got {', '.join(families)}")
    produced = produced_artifacts(topology, stage, conditions)
    _needs_family(topology, stage, produced, families)
    return tuple(
        sorted(Wanted(a, t, stage) for a in produced for t in targets_for(topology, a, families))
    )


def fetch_plan(
    topology: Topology,
    stage: str,
    conditions: Conditions,
    families: Sequence[str] = (),
    exclude_artifacts: Sequence[str] = (),
) -> tuple[Wanted, ...]:
    """The artifacts (and targets) ``stage`` must fetch: its exact inbound set."""
    require_stage(topology, stage)
    families = check_families(families)
    for name in exclude_artifacts:
        if name not in topology.artifacts:
            found = unknown("artifact", name, topology.artifacts, within="in --exclude-artifacts")
            raise InputError(str(found))
    inbound = [
        a for a in inbound_artifacts(topology, stage, conditions) if a not in exclude_artifacts
    ]
    _needs_family(topology, stage, inbound, families)
    producers = topology.artifact_to_stage
    return tuple(
        sorted(
            Wanted(a, t, producers.get(a, ""))
            for a in inbound
            for t in targets_for(topology, a, families)
        )
    )


SHOWN_IGNORED = 10  # ignored store names a warning lists one by one


@dataclass(frozen=True)
class Screened:
    """A run's listing with the names no archive of the topology can have taken out."""

    listing: Mapping[str, int]
    ignored: tuple[tuple[str, str], ...]  # (name, why), sorted

    def warning(self, where: str) -> tuple[str, list[str]]:
        """A headline and one line per ignored name (the first SHOWN_IGNORED, escaped);
        ("", []) when nothing was ignored."""
        if not self.ignored:
            return "", []
        head = f"{len(self.ignored)} file name(s) in {where} ignored"
        lines = [f"'{escape(name, 120)}': {why}" for name, why in self.ignored[:SHOWN_IGNORED]]
        left = len(self.ignored) - SHOWN_IGNORED
        return head, lines + ([f"and {left} more"] if left > 0 else [])


def _is_archive_like(name: str) -> bool:
    base = name.removesuffix(SIDECAR_SUFFIX)
    return base.endswith((".tar.zst", ".tar.xz"))


def screen_listing(listing: Mapping[str, int], topology: Topology) -> Screened:
    """Keep the names of a store listing that are safe file names; of those that look like
    archives or sidecars, keep only well-formed ones of an artifact of ``topology``. Store
    listings are outside data (anyone who may write the store writes them): the rest is
    ignored, with the reason, and never turned into a local path."""
    kept: dict[str, int] = {}
    ignored: list[tuple[str, str]] = []
    for name, size in listing.items():
        problems = component_problems(name)
        if problems:
            ignored.append((name, f"the name {problems[0]}"))
            continue
        if _is_archive_like(name):
            parsed = try_parse_archive(name.removesuffix(SIDECAR_SUFFIX))
            if parsed is None:
                ignored.append((name, "not a well-formed archive name"))
                continue
            if parsed[0].name not in topology.artifacts:
                ignored.append((name, "names no artifact of the topology"))
                continue
        kept[name] = size
    return Screened(kept, tuple(sorted(ignored)))


def present(listing: Mapping[str, int]) -> dict[ArtifactName, Remote]:
    """Archives in a listing that have their sidecar (an archive without one is absent).

    When both ``.tar.zst`` and ``.tar.xz`` exist, zstd wins.
    """
    out: dict[ArtifactName, Remote] = {}
    for filename, size in sorted(listing.items()):
        parsed = try_parse_archive(filename)
        if parsed is None or sidecar(filename) not in listing:
            continue
        name, compression = parsed
        if name not in out or compression == "zstd":
            out[name] = Remote(name, compression, filename, size)
    return out


def select(
    wanted: Sequence[Wanted],
    listing: Mapping[str, int],
    exclude_components: Sequence[str] = (),
) -> tuple[list[Remote], list[Wanted]]:
    """The present archives matching ``wanted`` (minus excluded components), and what is
    missing: wanted (artifact, target) pairs with no archive at all, and components whose
    archive has no sidecar (absent for readers, and a sign of an interrupted push)."""
    available = present(listing)
    by_key = {(w.artifact, w.target): w for w in wanted}
    chosen = sorted(
        r
        for n, r in available.items()
        if (n.name, n.target) in by_key and n.component not in exclude_components
    )
    found = {(n.name, n.target) for n in available}
    missing = [w for w in wanted if (w.artifact, w.target) not in found]
    for filename in listing:
        parsed = try_parse_archive(filename)
        if parsed is None or parsed[0] in available:
            continue
        name = parsed[0]
        w = by_key.get((name.name, name.target))
        if (
            w is not None
            and (name.name, name.target) in found
            and name.component not in exclude_components
        ):
            missing.append(Wanted(w.artifact, w.target, w.stage, name.component))
    return chosen, sorted(set(missing))
