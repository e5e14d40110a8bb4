"""Which stages a change affects: changed paths -> rules or source sets -> stages -> downstream.

Pure. Every changed path is reported with the rule it met; a path no rule covers makes every
stage affected (the fallback), and the report says which paths caused it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from action_lib.impact.rules import ImpactRules, first_match, specificity
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.sources.layout import norm_path, owned_paths, owner_of
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology

RULE_ALL = "affects-all"
RULE_NONE = "affects-none"
RULE_SUBMODULE = "submodule"
RULE_SOURCE_SET = "source-set"
RULE_FOLDER = "artifact-folder"
RULE_UNMAPPED = "unmapped"


@dataclass(frozen=True)
class Change:
    """A changed path; a submodule pointer move carries its old and new commits."""

    path: str
    status: str = "M"
    submodule: bool = False
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class PathImpact:
    """How one changed path was classified, and the stages it affects directly."""

    path: str
    rule: str
    detail: str  # the pattern, submodule name, path prefix or folder that matched
    source_sets: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    submodule: bool = False
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class StageReason:
    """Why a stage is affected: changed paths mapped to it, and affected upstream stages."""

    stage: str
    paths: tuple[str, ...]
    upstream: tuple[str, ...]


@dataclass(frozen=True)
class ImpactReport:
    """The stages a change affects, with the reasoning for every path and stage."""

    stages: tuple[str, ...]  # every active stage, in build order
    affected: tuple[str, ...]  # in build order
    paths: tuple[PathImpact, ...]
    reasons: tuple[StageReason, ...]
    everything: bool
    fallback: str  # why everything was assumed when no explicit rule said so ("" otherwise)
    origin: str = ""  # where the changed paths came from

    def reason(self, stage: str) -> StageReason | None:
        """The reason ``stage`` is affected, or None when it is not."""
        return next((r for r in self.reasons if r.stage == stage), None)


def _merge(changes: Iterable[Change]) -> list[Change]:
    by_path: dict[str, Change] = {}
    for change in changes:
        path = norm_path(change.path)
        if not path:
            continue
        seen = by_path.get(path)
        if seen is None or (change.submodule and not seen.submodule):
            by_path[path] = Change(path, change.status, change.submodule, change.old, change.new)
    return [by_path[p] for p in sorted(by_path)]


def _rule(
    topology: Topology,
    path: str,
    submodule: bool,
    submodules: Sequence[GitSubmodule],
    rules: ImpactRules,
    platform: str | None,
) -> tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(rule, detail, source sets, groups, stages) for one path."""
    every = first_match(rules.affects_all, path)
    none = first_match(rules.affects_none, path)
    if every is not None and (none is None or specificity(every) >= specificity(none)):
        return RULE_ALL, every, (), (), ("*",)
    if none is not None:
        return RULE_NONE, none, (), (), ()
    owner = owner_of(path, owned_paths(topology, submodules))
    if owner is not None:
        stages = queries.source_set_to_stages(topology, platform).get(owner.source_set, ())
        rule = RULE_SUBMODULE if owner.kind == "submodule" else RULE_SOURCE_SET
        return rule, owner.name, (owner.source_set,), (), stages
    folder = rules.folder_of(path)
    if folder is not None:
        groups = rules.folders[folder]
        stages = tuple(sorted({s for g in groups for s in topology.group_to_stages.get(g, ())}))
        return RULE_FOLDER, folder, (), groups, stages
    declared = {norm_path(s.path): s.name for s in submodules}
    if path in declared:
        detail = f"submodule '{declared[path]}' is in no source set"
    elif submodule:
        detail = "submodule path not declared in .gitmodules"
    else:
        detail = "no rule, source set or folder covers this path"
    return RULE_UNMAPPED, detail, (), (), ()


def classify(
    topology: Topology,
    change: Change,
    *,
    submodules: Sequence[GitSubmodule] = (),
    rules: ImpactRules | None = None,
    platform: str | None = None,
) -> PathImpact:
    """The rule ``change`` meets and the stages it affects directly (all stages: ``*``).

    Rules apply in order: the explicit patterns (the most specific of the affects-all and
    affects-none patterns the path meets; affects-all on a tie), the paths source sets own
    (submodules through ``.gitmodules``, path prefixes, external sources), the mapped
    folders; a path none of them covers is ``unmapped``.
    """
    path = norm_path(change.path)
    rule, detail, source_sets, groups, stages = _rule(
        topology, path, change.submodule, submodules, rules or ImpactRules(), platform
    )
    return PathImpact(
        path, rule, detail, source_sets, groups, stages, change.submodule, change.old, change.new
    )


def _downstream(
    topology: Topology, conditions: Conditions, direct: dict[str, set[str]], active: Sequence[str]
) -> tuple[set[str], dict[str, set[str]]]:
    graph = queries.stage_graph(topology, conditions)
    below: dict[str, list[str]] = {s: [] for s in active}
    for stage in active:
        for up in graph.get(stage, ()):
            if up in below:
                below[up].append(stage)
    affected = set(direct)
    via: dict[str, set[str]] = {}
    queue = deque(sorted(direct))
    while queue:
        stage = queue.popleft()
        for child in below.get(stage, ()):
            via.setdefault(child, set()).add(stage)
            if child not in affected:
                affected.add(child)
                queue.append(child)
    return affected, via


def _shown(paths: Sequence[str], limit: int = 5) -> str:
    more = len(paths) - limit
    return ", ".join(paths[:limit]) + (f" and {more} more" if more > 0 else "")


def compute_impact(
    topology: Topology,
    changes: Iterable[Change],
    *,
    submodules: Sequence[GitSubmodule] = (),
    rules: ImpactRules | None = None,
    conditions: Conditions = queries.ANYWHERE,
    origin: str = "",
) -> ImpactReport:
    """The stages ``changes`` affect under ``conditions`` (only stages with a job there)."""
    order = queries.build_order(topology, conditions)
    active = set(queries.active_stages(topology, conditions))
    stages = tuple(s for s in order if s in active)
    impacts = tuple(
        classify(topology, c, submodules=submodules, rules=rules, platform=conditions.platform)
        for c in _merge(changes)
    )
    direct: dict[str, set[str]] = {}
    for impact in impacts:
        for stage in impact.stages:
            if stage in active:
                direct.setdefault(stage, set()).add(impact.path)
    unmapped = [p.path for p in impacts if p.rule == RULE_UNMAPPED]
    everything_paths = {p.path for p in impacts if p.rule in (RULE_ALL, RULE_UNMAPPED)}
    if everything_paths:
        fallback = ""
        if unmapped and not any(p.rule == RULE_ALL for p in impacts):
            fallback = f"{len(unmapped)} changed path(s) matched no rule: {_shown(unmapped)}"
        reasons = tuple(
            StageReason(s, tuple(sorted(everything_paths | direct.get(s, set()))), ())
            for s in stages
        )
        return ImpactReport(stages, stages, impacts, reasons, True, fallback, origin)
    affected, via = _downstream(topology, conditions, direct, stages)
    reasons = tuple(
        StageReason(
            s,
            tuple(sorted(direct.get(s, ()))),
            tuple(u for u in stages if u in via.get(s, set()) and u in affected),
        )
        for s in stages
        if s in affected
    )
    return ImpactReport(
        stages,
        tuple(s for s in stages if s in affected),
        impacts,
        reasons,
        set(stages) <= affected and bool(stages),
        "",
        origin,
    )


def everything(
    topology: Topology, reason: str, *, conditions: Conditions = queries.ANYWHERE, origin: str = ""
) -> ImpactReport:
    """Every stage affected, because the changes could not be known (``reason`` says why)."""
    active = set(queries.active_stages(topology, conditions))
    stages = tuple(s for s in queries.build_order(topology, conditions) if s in active)
    reasons = tuple(StageReason(s, (), ()) for s in stages)
    return ImpactReport(stages, stages, (), reasons, True, reason, origin)


def affected_jobs(
    topology: Topology,
    report: ImpactReport,
    families: Sequence[str],
    conditions: Conditions = queries.ANYWHERE,
) -> list[queries.Job]:
    """The pipeline's jobs (per-arch stages once per family) whose stage is affected."""
    wanted = set(report.affected)
    return [j for j in queries.expand_jobs(topology, families, conditions) if j.stage in wanted]
