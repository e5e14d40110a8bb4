"""Property tests over random topologies: the graph logic against a naive reference."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from action_lib.topology import Conditions, Topology, validate_topology
from action_lib.topology import queries as q
from action_lib.topology.graph import find_cycles
from action_lib.topology.model import Artifact, ArtifactGroup, BuildStage


@st.composite
def dag_topologies(draw: st.DrawFn) -> Topology:
    """Random valid topologies: deps point to earlier artifacts, stages are monotone."""
    n = draw(st.integers(1, 30))
    n_groups = draw(st.integers(1, min(n, 8)))
    cuts = (
        sorted(draw(st.lists(st.integers(1, n - 1), max_size=n_groups - 1, unique=True)))
        if n > 1
        else []
    )
    bounds = [0, *cuts, n]
    group_of = {}
    for g in range(len(bounds) - 1):
        for i in range(bounds[g], bounds[g + 1]):
            group_of[i] = g
    n_real_groups = len(bounds) - 1
    stage_cuts = (
        sorted(set(draw(st.lists(st.integers(1, max(1, n_real_groups - 1)), max_size=3))))
        if n_real_groups > 1
        else []
    )
    stage_bounds = [0, *[c for c in stage_cuts if c < n_real_groups], n_real_groups]
    stage_of_group = {}
    for s in range(len(stage_bounds) - 1):
        for g in range(stage_bounds[s], stage_bounds[s + 1]):
            stage_of_group[g] = s
    artifacts = {}
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), max_size=4, unique=True)) if i else []
        disabled = ("windows",) if draw(st.booleans()) and draw(st.booleans()) else ()
        name = f"a{i}"
        artifacts[name] = Artifact(
            name=name,
            artifact_group=f"g{group_of[i]}",
            artifact_deps=tuple(f"a{d}" for d in deps),
            feature_name=f"A{i}",
            feature_group=f"G{group_of[i]}",
            disable_platforms=disabled,
        )
    groups = {f"g{g}": ArtifactGroup(name=f"g{g}") for g in range(n_real_groups)}
    stages: dict[str, list[str]] = {}
    for g in range(n_real_groups):
        stages.setdefault(f"s{stage_of_group[g]}", []).append(f"g{g}")
    build_stages = {s: BuildStage(name=s, artifact_groups=tuple(gs)) for s, gs in stages.items()}
    return Topology("T.toml", "2.0", "random", {}, build_stages, groups, artifacts)


def naive_closure(topology: Topology, roots: set[str], enabled: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = [d for r in roots for d in topology.artifacts[r].artifact_deps if d in enabled]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(d for d in topology.artifacts[name].artifact_deps if d in enabled)
    return seen


CONDITIONS = st.sampled_from([Conditions(), Conditions("linux"), Conditions("windows")])


@settings(max_examples=150, deadline=None)
@given(dag_topologies(), CONDITIONS)
def test_inbound_is_exact_disjoint_and_closed(topology: Topology, cond: Conditions) -> None:
    enabled = set(q.enabled_artifacts(topology, cond))
    for stage in topology.build_stages:
        produced = set(q.produced_artifacts(topology, stage, cond))
        inbound = set(q.inbound_artifacts(topology, stage, cond))
        assert produced <= enabled and inbound <= enabled
        assert not produced & inbound
        assert inbound == naive_closure(topology, produced, enabled) - produced
        for name in inbound:  # closed under artifact_deps (outside what the stage builds)
            assert naive_closure(topology, {name}, enabled) - produced <= inbound
        if not produced:
            assert not inbound


@settings(max_examples=150, deadline=None)
@given(dag_topologies(), CONDITIONS)
def test_order_and_waves_put_producers_first(topology: Topology, cond: Conditions) -> None:
    assert validate_topology(topology) == []
    order = q.build_order(topology, cond)
    assert sorted(order) == sorted(topology.build_stages)
    position = {s: i for i, s in enumerate(order)}
    waves = q.stage_waves(topology, cond)
    wave_of = {s: k for k, wave in enumerate(waves) for s in wave}
    for stage in topology.build_stages:
        for name in q.inbound_artifacts(topology, stage, cond):
            producer = topology.artifact_to_stage[name]
            assert position[producer] < position[stage]
            assert wave_of[producer] < wave_of[stage]
    assert set(wave_of) == set(q.active_stages(topology, cond))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_random_cycle_is_always_found(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 40))
    edges: dict[str, list[str]] = {f"n{i}": [] for i in range(n)}
    for i in range(1, n):
        for j in data.draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)):
            edges[f"n{i}"].append(f"n{j}")
    # Close a cycle: a path from a low node up to a high one, then a back edge.
    low = data.draw(st.integers(0, n - 2))
    high = data.draw(st.integers(low + 1, n - 1))
    for k in range(low, high):
        edges[f"n{k + 1}"].append(f"n{k}")
    edges[f"n{low}"].append(f"n{high}")
    cycles = find_cycles(edges, edges)
    assert cycles
    for cycle in cycles:
        assert cycle[0] == cycle[-1]
        for here, there in itertools.pairwise(cycle):
            assert there in edges[here]


@settings(max_examples=100, deadline=None)
@given(dag_topologies(), st.data())
def test_validation_reports_an_injected_artifact_cycle(
    topology: Topology, data: st.DataObject
) -> None:
    names = sorted(topology.artifacts, key=lambda n: int(n[1:]))
    low = data.draw(st.integers(0, len(names) - 1))
    high = data.draw(st.integers(low, len(names) - 1))
    chain = names[low : high + 1]
    artifacts = dict(topology.artifacts)
    for here, there in zip(chain[1:], chain, strict=False):
        a = artifacts[here]
        artifacts[here] = Artifact(**{**a.__dict__, "artifact_deps": (*a.artifact_deps, there)})
    first = artifacts[chain[0]]
    artifacts[chain[0]] = Artifact(
        **{**first.__dict__, "artifact_deps": (*first.artifact_deps, chain[-1])}
    )
    broken = Topology(
        "T.toml", "2.0", "", {}, topology.build_stages, topology.artifact_groups, artifacts
    )
    findings = validate_topology(broken)
    assert any(f.code == "cycle" and "artifact dependency cycle" in f.message for f in findings)
