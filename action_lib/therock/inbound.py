"""TheRock's over-approximated inbound artifacts, and what they add over the exact set. Pure.

TheRock's ``get_inbound_artifacts`` fetches, for a stage, every artifact of every group its
groups name in ``artifact_group_deps`` (and their transitive deps), plus the transitive deps of
its own artifacts. rockshard's :func:`action_lib.topology.queries.inbound_artifacts` takes only
the transitive deps of what the stage builds; the difference is downloaded for nothing.
"""

from __future__ import annotations

from action_lib.topology import graph, queries
from action_lib.topology.model import Conditions, Topology


def therock_inbound(topology: Topology, stage: str) -> set[str]:
    """TheRock's inbound set of ``stage``: over-approximated (see the module docstring).

    Every artifact of every group in the artifact_group_deps of the stage's groups, plus their
    transitive artifact_deps, plus the transitive artifact_deps of the stage's own artifacts,
    minus what the stage produces. Raises InputError for an unknown stage or a cycle.
    """
    queries.require_stage(topology, stage)
    analysis = queries.analyze(topology, queries.ANYWHERE)
    members = topology.group_to_artifacts
    stage_groups = set(topology.build_stages[stage].artifact_groups)
    produced = {a for g in stage_groups for a in members.get(g, ())}
    roots: set[str] = set()
    for group_name in stage_groups:
        group = topology.artifact_groups.get(group_name)
        if group is not None:
            for dep_group in group.artifact_group_deps:
                roots.update(members.get(dep_group, ()))
    for name in produced:
        roots.update(topology.artifacts[name].artifact_deps)
    mask = 0
    for name in roots:
        mask |= analysis.closure.get(name, 0)
    inbound = roots | set(graph.bits_to_names(mask, analysis.order))
    return inbound - produced


def compare_inbound(
    topology: Topology, conditions: Conditions = queries.ANYWHERE
) -> dict[str, tuple[str, ...]]:
    """Stage -> artifacts TheRock's over-approximation fetches that the stage does not need."""
    analysis = queries.analyze(topology, conditions)
    return {
        stage: tuple(sorted(therock_inbound(topology, stage) - set(analysis.inbound[stage])))
        for stage in sorted(topology.build_stages)
    }
