"""Questions a sharded pipeline asks of a topology. Pure functions, no I/O.

Every query takes :class:`Conditions` (platform, processor, flags). Artifacts disabled there
leave the graph before any closure is taken, so a stage fetches only what it really needs.
"""

from __future__ import annotations

import graphlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from action_lib.errors import InputError
from action_lib.inputs.suggest import unknown
from action_lib.topology import graph
from action_lib.topology.model import Conditions, Topology

ANYWHERE = Conditions()


@dataclass(frozen=True)
class Job:
    """One job of a pipeline: a stage, and the GPU family for a per-arch stage."""

    stage: str
    family: str = ""


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything derived from a topology under given conditions, computed once."""

    order: tuple[str, ...]  # enabled artifacts, dependencies first
    deps: Mapping[str, list[str]]  # enabled artifact -> its enabled direct deps
    produced: Mapping[str, tuple[str, ...]]  # stage -> produced artifacts (sorted)
    inbound: Mapping[str, tuple[str, ...]]  # stage -> exact inbound artifacts (sorted)
    upstream: Mapping[str, tuple[str, ...]]  # stage -> stages it fetches from (sorted)

    @cached_property
    def closure(self) -> Mapping[str, int]:
        """Artifact to the bit set (over ``order``) of its transitive deps; computed on demand."""
        return graph.closures(self.order, self.deps)


def require_stage(topology: Topology, stage: str) -> None:
    """Raise InputError naming the closest stage when ``stage`` does not exist."""
    if stage not in topology.build_stages:
        raise InputError(
            str(unknown("stage", stage, sorted(topology.build_stages), listing="stages"))
        )


def enabled_artifacts(topology: Topology, conditions: Conditions = ANYWHERE) -> list[str]:
    """Names of the artifacts built under ``conditions``, in file order."""
    groups = topology.artifact_groups
    return [
        a.name
        for a in topology.artifacts.values()
        if conditions.enables(a, groups.get(a.artifact_group))
    ]


def analyze(topology: Topology, conditions: Conditions = ANYWHERE) -> Analysis:
    """Compute produced and inbound sets of every stage, and the stage graph (cached).

    Raises InputError when the artifact dependencies have a cycle.
    """
    return _analyze(topology, conditions)


@lru_cache(maxsize=64)
def _analyze(topology: Topology, conditions: Conditions) -> Analysis:
    enabled = enabled_artifacts(topology, conditions)
    enabled_set = set(enabled)
    deps = {
        name: [d for d in topology.artifacts[name].artifact_deps if d in enabled_set]
        for name in enabled
    }
    try:
        order = graph.order(enabled, deps)
    except graphlib.CycleError as exc:
        cycle = " -> ".join(reversed(exc.args[1]))
        raise InputError(f"{topology.path}: artifact dependency cycle: {cycle}") from None
    stages = list(topology.build_stages)
    stage_bit = {stage: 1 << i for i, stage in enumerate(stages)}
    owner_bit = {
        name: stage_bit[stage]
        for name in enabled
        if (stage := topology.artifact_to_stage.get(name)) is not None
    }
    need = graph.demand(order, deps, owner_bit)

    produced_by_stage: dict[str, list[str]] = {s: [] for s in stages}
    inbound_by_stage: dict[str, list[str]] = {s: [] for s in stages}
    for name in order:
        own = owner_bit.get(name, 0)
        if own:
            produced_by_stage[stages[own.bit_length() - 1]].append(name)
        rest = need[name] & ~own
        while rest:
            low = rest & -rest
            inbound_by_stage[stages[low.bit_length() - 1]].append(name)
            rest ^= low

    produced = {s: tuple(sorted(names)) for s, names in produced_by_stage.items()}
    inbound = {s: tuple(sorted(names)) for s, names in inbound_by_stage.items()}
    upstream: dict[str, tuple[str, ...]] = {}
    for stage, names in inbound.items():
        feeders = {topology.artifact_to_stage.get(a) for a in names}
        upstream[stage] = tuple(sorted(s for s in feeders if s is not None and s != stage))
    return Analysis(tuple(order), deps, produced, inbound, upstream)


def produced_artifacts(
    topology: Topology, stage: str, conditions: Conditions = ANYWHERE
) -> tuple[str, ...]:
    """The artifacts ``stage`` builds under ``conditions``, sorted."""
    require_stage(topology, stage)
    return analyze(topology, conditions).produced[stage]


def inbound_artifacts(
    topology: Topology, stage: str, conditions: Conditions = ANYWHERE
) -> tuple[str, ...]:
    """What ``stage`` must fetch: the transitive deps of what it produces, minus that; sorted."""
    require_stage(topology, stage)
    return analyze(topology, conditions).inbound[stage]


def stage_graph(
    topology: Topology, conditions: Conditions = ANYWHERE
) -> Mapping[str, tuple[str, ...]]:
    """Stage name to the stages it fetches artifacts from."""
    return analyze(topology, conditions).upstream


def active_stages(topology: Topology, conditions: Conditions = ANYWHERE) -> list[str]:
    """Stages that produce something under ``conditions`` (the others get no job)."""
    produced = analyze(topology, conditions).produced
    return [s for s in topology.build_stages if produced[s]]


def stage_waves(
    topology: Topology, conditions: Conditions = ANYWHERE, *, only_active: bool = True
) -> list[list[str]]:
    """Parallel waves of stages: each stage's upstream stages are all in earlier waves.

    Raises InputError when the stages form a cycle.
    """
    stages = active_stages(topology, conditions) if only_active else list(topology.build_stages)
    try:
        return graph.waves(stages, stage_graph(topology, conditions))
    except graphlib.CycleError as exc:
        cycle = " -> ".join(reversed(exc.args[1]))
        raise InputError(f"{topology.path}: stage dependency cycle: {cycle}") from None


def build_order(topology: Topology, conditions: Conditions = ANYWHERE) -> list[str]:
    """A deterministic order of the stages, every producer before its consumers."""
    return [s for wave in stage_waves(topology, conditions, only_active=False) for s in wave]


def expand_jobs(
    topology: Topology, families: Sequence[str], conditions: Conditions = ANYWHERE
) -> list[Job]:
    """The jobs of a pipeline in build order: per-arch stages once per family."""
    jobs: list[Job] = []
    for stage in build_order(topology, conditions):
        if not analyze(topology, conditions).produced[stage]:
            continue
        if topology.build_stages[stage].per_arch:
            jobs.extend(Job(stage, family) for family in families)
        else:
            jobs.append(Job(stage))
    return jobs


def stage_groups(topology: Topology, stage: str) -> tuple[str, ...]:
    """The artifact groups a stage builds, as listed."""
    require_stage(topology, stage)
    return topology.build_stages[stage].artifact_groups


def stage_source_sets(
    topology: Topology, stage: str, platform: str | None = None
) -> tuple[str, ...]:
    """Source sets the stage's groups need, minus those disabled on ``platform``; sorted."""
    names: set[str] = set()
    for group_name in stage_groups(topology, stage):
        group = topology.artifact_groups.get(group_name)
        if group is None or (platform is not None and platform in group.disable_platforms):
            continue
        names.update(group.source_sets)
    return tuple(
        sorted(
            n
            for n in names
            if n in topology.source_sets and topology.source_sets[n].enabled_on(platform)
        )
    )


def stage_submodules(
    topology: Topology, stage: str, platform: str | None = None
) -> tuple[str, ...]:
    """Git submodules the stage needs on ``platform``; sorted."""
    subs: set[str] = set()
    for name in stage_source_sets(topology, stage, platform):
        subs.update(topology.source_sets[name].submodules)
    return tuple(sorted(subs))


def submodule_to_source_set(topology: Topology) -> dict[str, str]:
    """Submodule name to the (first) source set that lists it."""
    out: dict[str, str] = {}
    for source_set in topology.source_sets.values():
        for sub in source_set.submodules:
            out.setdefault(sub, source_set.name)
    return out


def source_set_to_stages(
    topology: Topology, platform: str | None = None
) -> dict[str, tuple[str, ...]]:
    """Source set name to the stages that need it on ``platform``; sorted."""
    out: dict[str, set[str]] = {name: set() for name in topology.source_sets}
    for stage in topology.build_stages:
        for name in stage_source_sets(topology, stage, platform):
            out[name].add(stage)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def artifact_graph(
    topology: Topology, conditions: Conditions = ANYWHERE
) -> dict[str, tuple[str, ...]]:
    """Enabled artifact to its enabled direct dependencies."""
    enabled = set(enabled_artifacts(topology, conditions))
    return {
        name: tuple(d for d in topology.artifacts[name].artifact_deps if d in enabled)
        for name in sorted(enabled)
    }


def group_graph(topology: Topology) -> dict[str, tuple[str, ...]]:
    """Artifact group to the groups it declares as dependencies."""
    return {
        name: tuple(g for g in group.artifact_group_deps if g in topology.artifact_groups)
        for name, group in sorted(topology.artifact_groups.items())
    }
