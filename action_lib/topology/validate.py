"""Semantic validation of a topology: every finding, each located and with a fix."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath, PureWindowsPath

from action_lib.errors import Finding, InputError
from action_lib.inputs.paths import (
    ORIGIN_SCHEMES,
    commit_problems,
    origin_problems,
    relative_path_problems,
)
from action_lib.inputs.suggest import suggest
from action_lib.topology import graph
from action_lib.topology.model import (
    ARTIFACT_TYPES,
    GROUP_TYPES,
    PLATFORMS,
    PROCESSORS,
    STAGE_TYPES,
    Topology,
)

ENTITY_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FEATURE_NAME = re.compile(r"^[A-Z0-9]+(_[A-Z0-9]+)*$")
EXTERNAL_ROOT = "optional-sources"
SECTIONS = {
    "source_sets": "source set",
    "build_stages": "build stage",
    "artifact_groups": "artifact group",
    "artifacts": "artifact",
}


class _Collector:
    def __init__(self, topology: Topology) -> None:
        self.t = topology
        self.findings: list[Finding] = []

    def add(self, where: tuple[str, ...], code: str, message: str, hint: str = "") -> None:
        self.findings.append(Finding(self.t.path, self.t.line(*where), code, message, hint))

    def enum(self, where: tuple[str, ...], what: str, value: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        if value not in allowed:
            hint = suggest(value, allowed) or f"expected one of: {', '.join(allowed)}"
            self.add(where, "enum", f"{what} '{value}' is not valid", hint)

    def refs(
        self,
        where: tuple[str, ...],
        owner: str,
        kind: str,
        names: Iterable[str],
        known: Mapping[str, object],
    ) -> None:
        for name in names:
            if name not in known:
                hint = suggest(name, known) or f"define [{_section_of(kind)}.{name}] or remove it"
                self.add(where, "unknown-ref", f"{owner} refers to unknown {kind} '{name}'", hint)


def _section_of(kind: str) -> str:
    return next(k for k, v in SECTIONS.items() if v == kind)


def _check_names(c: _Collector) -> None:
    t = c.t
    for section, kind in SECTIONS.items():
        for name in getattr(t, section):
            if not ENTITY_NAME.match(name):
                fixed = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                c.add(
                    (section, name),
                    "name",
                    f"{kind} name '{name}' is not lower-case-with-hyphens",
                    f"rename it to '{fixed}'",
                )
    for a in t.artifacts.values():
        for key, value in (("feature_name", a.feature_name), ("feature_group", a.feature_group)):
            if value and not FEATURE_NAME.match(value):
                fixed = re.sub(r"[^A-Z0-9]+", "_", value.upper()).strip("_")
                c.add(
                    ("artifacts", a.name, key),
                    "name",
                    f"artifact '{a.name}' {key} '{value}' is not UPPER_SNAKE",
                    f"use '{fixed}'",
                )


def _check_enums(c: _Collector) -> None:
    t = c.t
    if not t.version:
        c.add(("metadata",), "version", "[metadata] has no version", 'add version = "2.0"')
    elif t.version.split(".")[0] != "2":
        c.add(
            ("metadata", "version"),
            "version",
            f"schema version '{t.version}' is not supported",
            "rockshard reads schema 2.x",
        )
    for s in t.build_stages.values():
        c.enum(("build_stages", s.name, "type"), f"stage '{s.name}' type", s.type, STAGE_TYPES)
    for g in t.artifact_groups.values():
        c.enum(("artifact_groups", g.name, "type"), f"group '{g.name}' type", g.type, GROUP_TYPES)
        for p in g.disable_platforms:
            c.enum(
                ("artifact_groups", g.name, "disable_platforms"),
                f"group '{g.name}' platform",
                p,
                PLATFORMS,
            )
    for ss in t.source_sets.values():
        for p in ss.disable_platforms:
            c.enum(
                ("source_sets", ss.name, "disable_platforms"),
                f"source set '{ss.name}' platform",
                p,
                PLATFORMS,
            )
    for a in t.artifacts.values():
        at = ("artifacts", a.name)
        c.enum((*at, "type"), f"artifact '{a.name}' type", a.type, ARTIFACT_TYPES)
        if a.platform is not None:
            c.enum((*at, "platform"), f"artifact '{a.name}' platform", a.platform, PLATFORMS)
        for p in a.disable_platforms:
            c.enum((*at, "disable_platforms"), f"artifact '{a.name}' platform", p, PLATFORMS)
        for p, flag in a.disable_platforms_if_flags_not_set:
            where = (*at, "disable_platforms_if_flags_not_set")
            c.enum(where, f"artifact '{a.name}' platform", p, PLATFORMS)
            if not FEATURE_NAME.match(flag):
                c.add(where, "name", f"artifact '{a.name}' flag '{flag}' is not UPPER_SNAKE")
        for p in a.disable_processors:
            c.enum((*at, "disable_processors"), f"artifact '{a.name}' processor", p, PROCESSORS)


def _check_refs(c: _Collector) -> None:
    t = c.t
    for s in t.build_stages.values():
        c.refs(
            ("build_stages", s.name, "artifact_groups"),
            f"stage '{s.name}'",
            "artifact group",
            s.artifact_groups,
            t.artifact_groups,
        )
    for g in t.artifact_groups.values():
        at = ("artifact_groups", g.name)
        c.refs(
            (*at, "artifact_group_deps"),
            f"group '{g.name}'",
            "artifact group",
            g.artifact_group_deps,
            t.artifact_groups,
        )
        c.refs(
            (*at, "source_sets"), f"group '{g.name}'", "source set", g.source_sets, t.source_sets
        )
    for a in t.artifacts.values():
        at = ("artifacts", a.name)
        if a.artifact_group:
            c.refs(
                (*at, "artifact_group"),
                f"artifact '{a.name}'",
                "artifact group",
                [a.artifact_group],
                t.artifact_groups,
            )
        c.refs(
            (*at, "artifact_deps"), f"artifact '{a.name}'", "artifact", a.artifact_deps, t.artifacts
        )
        c.refs(
            (*at, "test_artifacts"),
            f"artifact '{a.name}'",
            "artifact",
            a.test_artifacts,
            t.artifacts,
        )


def _check_ownership(c: _Collector) -> None:
    t = c.t
    owners: dict[str, tuple[str, str]] = {}  # claim -> (source set, description)

    def claim(key: str, what: str, owner: str, where: tuple[str, ...]) -> None:
        previous = owners.get(key)
        if previous is not None and previous[0] != owner:
            c.add(
                where,
                "ownership",
                f"{what} is owned by source sets '{previous[0]}' and '{owner}'",
                "keep it in one source set",
            )
        owners.setdefault(key, (owner, what))

    for ss in t.source_sets.values():
        for sub in ss.submodules:
            where = ("source_sets", ss.name, "submodules")
            _check_submodule_name(c, where, ss.name, sub)
            claim(f"submodule:{sub}", f"submodule '{sub}'", ss.name, where)
        for ext in ss.external_git_sources:
            where = ("source_sets", ss.name, "external_git_sources")
            _check_external(c, where, ext.name, ext.path, ext.origin, ext.commit)
            claim(f"path:{ext.path.strip('/')}", f"external path '{ext.path}'", ss.name, where)
        for prefix in ss.path_prefixes:
            where = ("source_sets", ss.name, "path_prefixes")
            _check_path_prefix(c, where, ss.name, prefix)
            if prefix.strip("/"):
                claim(f"path:{prefix.strip('/')}", f"path prefix '{prefix}'", ss.name, where)
    # A path nested inside another source set's path is owned twice as well. Sorted on
    # "path/", everything under a path follows it without a gap ("a-b" sorts before "a/b").
    paths = sorted(
        ((k[5:], v[0]) for k, v in owners.items() if k.startswith("path:")),
        key=lambda item: item[0] + "/",
    )
    for i, (path, owner) in enumerate(paths):
        for other, other_owner in paths[i + 1 :]:
            if not other.startswith(path + "/"):
                break
            if other_owner != owner:
                c.add(
                    ("source_sets", other_owner),
                    "ownership",
                    f"path '{other}' of source set '{other_owner}' lies inside '{path}' of source set '{owner}'",
                    "make the paths disjoint",
                )


# Problems relative_path_problems finds that the "path" findings below already word.
_WORDED_PATH_PROBLEMS = (
    "is empty",
    "is absolute",
    "names a Windows drive",
    "leaves its root ('..')",
)


def _unsafe(c: _Collector, where: tuple[str, ...], what: str, value: str) -> None:
    """One ``unsafe-path`` finding per problem of ``value`` the ``path`` findings do not word."""
    for problem in relative_path_problems(value):
        if problem not in _WORDED_PATH_PROBLEMS:
            c.add(where, "unsafe-path", f"{what} '{value}' {problem}", "use a plain relative path")


def _check_submodule_name(c: _Collector, where: tuple[str, ...], owner: str, name: str) -> None:
    # A submodule name names a folder under .git/modules: the same rules as a path.
    for problem in relative_path_problems(name):
        c.add(
            where,
            "unsafe-name",
            f"source set '{owner}' submodule name '{name}' {problem}",
            "use the name .gitmodules declares",
        )


def _check_external(
    c: _Collector,
    where: tuple[str, ...],
    name: str,
    path: str,
    origin: str,
    commit: str,
) -> None:
    """Every problem of one external git source: name, path, origin and commit together."""
    if not ENTITY_NAME.match(name):
        fixed = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        c.add(
            where,
            "name",
            f"external source name '{name}' is not lower-case-with-hyphens",
            f"rename it to '{fixed}'",
        )
    posix = PurePosixPath(path.replace("\\", "/"))
    absolute = posix.is_absolute() or PureWindowsPath(path).is_absolute()
    if absolute or PureWindowsPath(path).drive:
        c.add(
            where,
            "path",
            f"external source '{name}' path '{path}' is absolute",
            f"use {EXTERNAL_ROOT}/{name}",
        )
    parts = posix.parts
    if ".." in parts:
        c.add(
            where,
            "path",
            f"external source '{name}' path '{path}' leaves the repository",
            "remove '..'",
        )
    if len(parts) < 2 or parts[0] != EXTERNAL_ROOT:
        c.add(
            where,
            "path",
            f"external source '{name}' path '{path}' is not under {EXTERNAL_ROOT}/",
            f"external sources are cloned under {EXTERNAL_ROOT}/; use {EXTERNAL_ROOT}/{name}",
        )
    if path:
        _unsafe(c, where, f"external source '{name}' path", path)
    for problem in origin_problems(origin):
        c.add(
            where,
            "origin",
            f"external source '{name}' origin '{origin}' {problem}",
            f"use a URL ({', '.join(s + '://' for s in ORIGIN_SCHEMES)}) or an absolute path",
        )
    for problem in commit_problems(commit):
        c.add(where, "commit", f"external source '{name}' commit '{commit}' {problem}")


def _check_path_prefix(c: _Collector, where: tuple[str, ...], owner: str, prefix: str) -> None:
    posix = PurePosixPath(prefix.replace("\\", "/"))
    if not prefix.strip("/"):
        c.add(where, "path", f"source set '{owner}' has an empty path prefix", "remove it")
        return
    if posix.is_absolute() or PureWindowsPath(prefix).drive:
        c.add(
            where,
            "path",
            f"source set '{owner}' path prefix '{prefix}' is absolute",
            "use a path relative to the repository root",
        )
    if ".." in posix.parts:
        c.add(
            where,
            "path",
            f"source set '{owner}' path prefix '{prefix}' leaves the repository",
            "remove '..'",
        )
    _unsafe(c, where, f"source set '{owner}' path prefix", prefix)


def _check_membership(c: _Collector) -> None:
    t = c.t
    for group, stages in sorted(t.group_to_stages.items()):
        if len(stages) > 1 and group in t.artifact_groups:
            c.add(
                ("build_stages", stages[1], "artifact_groups"),
                "membership",
                f"artifact group '{group}' is in stages {', '.join(repr(s) for s in stages)}",
                "build each group in exactly one stage",
            )
    for a in t.artifacts.values():
        if a.artifact_group in t.artifact_groups and a.name not in t.artifact_to_stage:
            c.add(
                ("artifacts", a.name),
                "membership",
                f"artifact '{a.name}' is built in no stage: its group '{a.artifact_group}' is in no build stage",
                "add the group to a stage's artifact_groups",
            )
    seen: dict[str, str] = {}
    for a in t.artifacts.values():
        first = seen.setdefault(a.feature_name, a.name)
        if first != a.name:
            c.add(
                ("artifacts", a.name),
                "feature",
                f"artifacts '{first}' and '{a.name}' share feature name '{a.feature_name}'",
                "set a distinct feature_name",
            )
    for s in t.build_stages.values():
        for group_name in s.artifact_groups:
            g = t.artifact_groups.get(group_name)
            if (
                g is not None
                and g.type != s.type
                and s.type in STAGE_TYPES
                and g.type in GROUP_TYPES
            ):
                c.add(
                    ("build_stages", s.name, "artifact_groups"),
                    "stage-type",
                    f"{g.type} group '{g.name}' is in {s.type} stage '{s.name}'",
                    "match the group's type to its stage's",
                )


def _check_cycles(c: _Collector) -> bool:
    """Report cycles; True when the artifact graph is acyclic (stage checks can follow)."""
    from action_lib.topology.queries import analyze

    t = c.t
    acyclic = True
    try:
        analyze(t)  # orders the artifacts with graphlib; cached for the stage checks and queries
    except InputError:
        acyclic = False
        art = {name: a.artifact_deps for name, a in t.artifacts.items()}
        for cycle in graph.find_cycles(t.artifacts, art):
            c.add(
                ("artifacts", cycle[0], "artifact_deps"),
                "cycle",
                f"artifact dependency cycle: {' -> '.join(cycle)}",
                "remove one of these deps",
            )
    groups = {name: g.artifact_group_deps for name, g in t.artifact_groups.items()}
    for cycle in graph.find_cycles(t.artifact_groups, groups):
        c.add(
            ("artifact_groups", cycle[0], "artifact_group_deps"),
            "cycle",
            f"artifact group dependency cycle: {' -> '.join(cycle)}",
            "remove one of these group deps",
        )
    return acyclic


def _check_stage_flow(c: _Collector) -> None:
    from action_lib.topology.queries import analyze

    t = c.t
    analysis = analyze(t)
    for cycle in graph.find_cycles(t.build_stages, analysis.upstream):
        steps = []
        for here, there in itertools.pairwise(cycle):
            needed = sorted(
                a for a in analysis.inbound[here] if t.artifact_to_stage.get(a) == there
            )
            steps.append(f"{here} needs {needed[0]} from {there}")
        c.add(
            ("build_stages", cycle[0]),
            "stage-cycle",
            f"stages need each other's artifacts: {' -> '.join(cycle)} ({'; '.join(steps)})",
            "move the artifacts so stages form a DAG",
        )
    for s in t.build_stages.values():
        if s.per_arch:
            continue
        for a_name in analysis.produced[s.name]:
            a = t.artifacts[a_name]
            for dep in a.artifact_deps:
                producer = t.artifact_to_stage.get(dep)
                if producer is not None and t.build_stages[producer].per_arch:
                    c.add(
                        ("artifacts", a_name, "artifact_deps"),
                        "per-arch-dep",
                        f"artifact '{a_name}' of generic stage '{s.name}' needs '{dep}' from per-arch stage '{producer}'",
                        "a generic stage cannot fetch per-family artifacts; move one of them",
                    )


def validate_topology(topology: Topology) -> list[Finding]:
    """All semantic findings of ``topology``, sorted by file and line."""
    c = _Collector(topology)
    _check_names(c)
    _check_enums(c)
    _check_refs(c)
    _check_ownership(c)
    _check_membership(c)
    if _check_cycles(c):
        _check_stage_flow(c)
    return sorted(c.findings, key=Finding.sort_key)
