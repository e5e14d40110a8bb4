"""Which sources a stage needs: submodules, external git sources and sparse-checkout paths.

Pure: the topology and the ``.gitmodules`` records in, a :class:`SourcePlan` out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from action_lib.errors import InputError
from action_lib.inputs.suggest import suggest, unknown
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.sources.layout import Owned, ancestors, is_under, norm_path
from action_lib.topology import queries
from action_lib.topology.model import ExternalGitSource, Topology


@dataclass(frozen=True)
class SubmoduleCheckout:
    """A submodule to initialise: its name, path and URL, and the source set needing it."""

    name: str
    path: str
    url: str
    source_set: str


@dataclass(frozen=True)
class ExternalCheckout:
    """An external git source to clone at its pinned commit, and the source set needing it."""

    source: ExternalGitSource
    source_set: str


@dataclass(frozen=True)
class SourcePlan:
    """Everything a stage checks out on a platform."""

    stage: str  # "" when only source sets were named
    platform: str | None
    source_sets: tuple[str, ...]
    submodules: tuple[SubmoduleCheckout, ...]
    external: tuple[ExternalCheckout, ...]
    path_prefixes: tuple[str, ...]
    sparse: bool  # the topology owns paths with path_prefixes: check out a cone

    @property
    def wanted_paths(self) -> tuple[str, ...]:
        """The paths this plan checks out: its prefixes, submodule and external paths."""
        paths = set(self.path_prefixes)
        paths.update(s.path for s in self.submodules)
        paths.update(norm_path(e.source.path) for e in self.external)
        return tuple(sorted(paths))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (stable keys)."""
        return {
            "stage": self.stage,
            "platform": self.platform,
            "source_sets": list(self.source_sets),
            "submodules": [
                {"name": s.name, "path": s.path, "url": s.url, "source_set": s.source_set}
                for s in self.submodules
            ],
            "external_git_sources": [
                {
                    "name": e.source.name,
                    "origin": e.source.origin,
                    "commit": e.source.commit,
                    "path": norm_path(e.source.path),
                    "source_set": e.source_set,
                }
                for e in self.external
            ],
            "path_prefixes": list(self.path_prefixes),
            "sparse": self.sparse,
        }


def _require_source_set(topology: Topology, name: str, platform: str | None) -> None:
    if name not in topology.source_sets:
        raise InputError(
            str(unknown("source set", name, sorted(topology.source_sets), listing="source sets"))
        )
    if not topology.source_sets[name].enabled_on(platform):
        raise InputError(f"source set '{name}' is disabled on {platform}")


def plan_sources(
    topology: Topology,
    stage: str | None,
    *,
    platform: str | None = None,
    extra_source_sets: Sequence[str] = (),
    submodules: Sequence[GitSubmodule] = (),
) -> SourcePlan:
    """The sources ``stage`` needs on ``platform``, plus ``extra_source_sets``.

    Raises InputError for an unknown stage or source set (with a did-you-mean), when neither
    is given, and for a submodule the topology names but ``.gitmodules`` does not declare.
    """
    names: set[str] = set()
    if stage:
        names.update(queries.stage_source_sets(topology, stage, platform))
    elif not extra_source_sets:
        raise InputError("name a stage or at least one source set")
    for name in extra_source_sets:
        _require_source_set(topology, name, platform)
        names.add(name)
    declared = {s.name: s for s in submodules}
    subs: dict[str, SubmoduleCheckout] = {}
    external: dict[str, ExternalCheckout] = {}
    prefixes: set[str] = set()
    for name in sorted(names):
        ss = topology.source_sets[name]
        for sub in ss.submodules:
            record = declared.get(sub)
            if record is None:
                hint = suggest(sub, declared)
                raise InputError(
                    f"source set '{name}' lists submodule '{sub}', which .gitmodules does not "
                    "declare" + (f": {hint}" if hint else "")
                )
            subs.setdefault(sub, SubmoduleCheckout(sub, norm_path(record.path), record.url, name))
        for ext in ss.external_git_sources:
            external.setdefault(ext.name, ExternalCheckout(ext, name))
        prefixes.update(norm_path(p) for p in ss.path_prefixes)
    return SourcePlan(
        stage=stage or "",
        platform=platform,
        source_sets=tuple(sorted(names)),
        submodules=tuple(subs[k] for k in sorted(subs)),
        external=tuple(external[k] for k in sorted(external)),
        path_prefixes=tuple(sorted(prefixes)),
        sparse=any(ss.path_prefixes for ss in topology.source_sets.values()),
    )


def cone_parents(owned: Sequence[Owned]) -> tuple[str, ...]:
    """The folders whose children :func:`sparse_cone` must know: ancestors of owned paths."""
    paths = {o.path for o in owned}
    return tuple(
        sorted(
            {
                a
                for entry in owned
                for a in ancestors(entry.path)
                if not any(is_under(a, p) for p in paths)
            }
        )
    )


def sparse_cone(
    plan: SourcePlan, owned: Sequence[Owned], tree: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """The folders of a cone-mode sparse checkout for ``plan``.

    Everything no source set owns is kept (the build's common files: ``cmake/``, scripts),
    plus the plan's own paths; the other source sets' paths are left out. ``tree`` maps each
    folder of :func:`cone_parents` (``""`` is the root) to the names of its sub-folders.
    """
    owned_paths = {o.path for o in owned}
    parents = set(cone_parents(owned))
    keep = set(plan.wanted_paths)
    for parent in sorted(parents):
        for child in tree.get(parent, ()):
            full = f"{parent}/{child}" if parent else child
            if full not in owned_paths and full not in parents:
                keep.add(full)
    minimal = [p for p in sorted(keep) if not any(o != p and is_under(p, o) for o in keep)]
    return tuple(minimal)
