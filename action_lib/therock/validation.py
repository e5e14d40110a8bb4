"""``BuildTopology.validate_topology()`` in TheRock's words. Pure.

TheRock's callers and tests match on its messages ("Circular dependency detected involving ...",
"Submodule 'x' is used by both source sets ...", "... invalid disable_processor ...",
"... must be under optional-sources/"). :func:`therock_messages` words every check of the
categories TheRock has (names, enumerations, references, paths, ownership, cycles) as TheRock
does, in TheRock's order; the few checks of those categories that only rockshard makes
(a group's ``disable_platforms``, ``test_artifacts`` references, paths nested in another source
set's) are worded the same way. rockshard's other findings (schema version, unknown keys and
types, stage membership, shared feature names, stage cycles, per-arch dependencies) follow,
located, by :func:`extra_findings`.

Allowed values are shown sorted (``{'generic', 'per-arch'}``): TheRock prints a Python set, whose
order changes between runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath, PureWindowsPath

from action_lib.errors import Finding
from action_lib.inputs.toml import tomllib
from action_lib.topology import graph
from action_lib.topology.model import (
    ARTIFACT_TYPES,
    PLATFORMS,
    PROCESSORS,
    STAGE_TYPES,
    Topology,
)

ENTITY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FEATURE = re.compile(r"^[A-Z0-9]+(_[A-Z0-9]+)*$")
EXTERNAL_ROOT = "optional-sources"
# Finding codes whose checks therock_messages words itself; every other code is passed through.
WORDED_CODES = frozenset({"name", "enum", "unknown-ref", "cycle", "ownership", "path"})


def _expected(values: Iterable[str]) -> str:
    return "{" + ", ".join(repr(v) for v in sorted(values)) + "}"


def external_path_problems(path: str) -> list[str]:
    """What is wrong with an external git source ``path``: "must be relative" and/or
    "must be under optional-sources/" (TheRock's two checks); [] when it is fine."""
    if not path:
        return []
    posix = PurePosixPath(path.replace("\\", "/"))
    problems = []
    if posix.is_absolute() or PureWindowsPath(path).is_absolute() or PureWindowsPath(path).drive:
        problems.append("must be relative")
    parts = posix.parts
    if not parts or parts[0] != EXTERNAL_ROOT or ".." in parts or len(parts) < 2:
        problems.append(f"must be under {EXTERNAL_ROOT}/")
    return problems


def path_prefix_problems(prefix: str) -> list[str]:
    """What is wrong with a source set's path prefix, in TheRock's words; [] when fine."""
    if not prefix:
        return ["is empty"]
    problems = []
    posix = PurePosixPath(prefix.replace("\\", "/"))
    if posix.is_absolute() or PureWindowsPath(prefix).drive:
        problems.append("must be relative")
    if ".." in posix.parts:
        problems.append("must not contain '..'")
    return problems


def _naming(t: Topology) -> list[str]:
    out: list[str] = []
    stage_types, artifact_types = _expected(STAGE_TYPES), _expected(ARTIFACT_TYPES)
    platforms, processors = _expected(PLATFORMS), _expected(PROCESSORS)
    for s in t.build_stages.values():
        if not ENTITY.match(s.name):
            out.append(f"Build stage '{s.name}' should be lowercase-with-hyphens")
        if s.type not in STAGE_TYPES:
            out.append(
                f"Build stage '{s.name}' has invalid type '{s.type}' (expected: {stage_types})"
            )
    for g in t.artifact_groups.values():
        if not ENTITY.match(g.name):
            out.append(f"Artifact group '{g.name}' should be lowercase-with-hyphens")
        if g.type not in STAGE_TYPES:
            out.append(
                f"Artifact group '{g.name}' has invalid type '{g.type}' (expected: {stage_types})"
            )
        out += [
            f"Artifact group '{g.name}' has invalid disable_platform '{p}' (expected: {platforms})"
            for p in g.disable_platforms
            if p not in PLATFORMS
        ]
    for a in t.artifacts.values():
        name = a.name
        if not ENTITY.match(name):
            out.append(f"Artifact '{name}' should be lowercase-with-hyphens")
        if a.type not in ARTIFACT_TYPES:
            out.append(
                f"Artifact '{name}' has invalid type '{a.type}' (expected: {artifact_types})"
            )
        for key, value in (("feature_name", a.feature_name), ("feature_group", a.feature_group)):
            if value and not FEATURE.match(value):
                out.append(
                    f"Artifact '{name}' {key} '{value}' should be UPPERCASE_WITH_UNDERSCORES"
                )
        if a.platform and a.platform not in PLATFORMS:
            out.append(
                f"Artifact '{name}' has invalid platform '{a.platform}' (expected: {platforms})"
            )
        out += [
            f"Artifact '{name}' has invalid disable_platform '{p}' (expected: {platforms})"
            for p in a.disable_platforms
            if p not in PLATFORMS
        ]
        for p, flag in a.disable_platforms_if_flags_not_set:
            if p not in PLATFORMS:
                out.append(
                    f"Artifact '{name}' has invalid conditional disable_platform '{p}' "
                    f"(expected: {platforms})"
                )
            if not FEATURE.match(flag):
                out.append(
                    f"Artifact '{name}' disable_platforms_if_flags_not_set entry for '{p}' "
                    "should be UPPERCASE_WITH_UNDERSCORES"
                )
        out += [
            f"Artifact '{name}' has invalid disable_processor '{p}' (expected: {processors})"
            for p in a.disable_processors
            if p not in PROCESSORS
        ]
    for ss in t.source_sets.values():
        out += _source_set_naming(ss.name, ss.disable_platforms, platforms)
        for ext in ss.external_git_sources:
            if not ENTITY.match(ext.name):
                out.append(f"External git source '{ext.name}' should be lowercase-with-hyphens")
            out += [
                f"External git source '{ext.name}' path '{ext.path}' {problem}"
                for problem in external_path_problems(ext.path)
            ]
        for prefix in ss.path_prefixes:
            for problem in path_prefix_problems(prefix):
                out.append(
                    f"Source set '{ss.name}' has an empty path_prefix"
                    if problem == "is empty"
                    else f"Source set '{ss.name}' path_prefix '{prefix}' {problem}"
                )
    return out


def _source_set_naming(name: str, disabled: Sequence[str], platforms: str) -> list[str]:
    out = [] if ENTITY.match(name) else [f"Source set '{name}' should be lowercase-with-hyphens"]
    out += [
        f"Source set '{name}' has invalid disable_platform '{p}' (expected: {platforms})"
        for p in disabled
        if p not in PLATFORMS
    ]
    return out


def _references(t: Topology) -> list[str]:
    out = [
        f"Stage '{s.name}' references unknown artifact group '{g}'"
        for s in t.build_stages.values()
        for g in s.artifact_groups
        if g not in t.artifact_groups
    ]
    for g in t.artifact_groups.values():
        out += [
            f"Artifact group '{g.name}' depends on unknown group '{d}'"
            for d in g.artifact_group_deps
            if d not in t.artifact_groups
        ]
        out += [
            f"Artifact group '{g.name}' references unknown source set '{ss}'"
            for ss in g.source_sets
            if ss not in t.source_sets
        ]
    for a in t.artifacts.values():
        if a.artifact_group and a.artifact_group not in t.artifact_groups:
            out.append(f"Artifact '{a.name}' references unknown group '{a.artifact_group}'")
        out += [
            f"Artifact '{a.name}' depends on unknown artifact '{d}'"
            for d in a.artifact_deps
            if d not in t.artifacts
        ]
        out += [
            f"Artifact '{a.name}' has unknown test artifact '{d}'"
            for d in a.test_artifacts
            if d not in t.artifacts
        ]
    return out


def _cycles(t: Topology) -> list[str]:
    groups = {name: g.artifact_group_deps for name, g in t.artifact_groups.items()}
    artifacts = {name: a.artifact_deps for name, a in t.artifacts.items()}
    return [
        f"Circular dependency detected involving artifact group '{c[0]}'"
        for c in graph.find_cycles(t.artifact_groups, groups)
    ] + [
        f"Circular dependency detected involving artifact '{c[0]}'"
        for c in graph.find_cycles(t.artifacts, artifacts)
    ]


def _ownership(t: Topology) -> list[str]:
    out: list[str] = []

    def claims(kind: str, items: Iterable[tuple[str, str]]) -> dict[str, str]:
        owner: dict[str, str] = {}
        for key, source_set in items:
            previous = owner.setdefault(key, source_set)
            if previous != source_set:
                out.append(
                    f"{kind} '{key}' is used by both source sets '{previous}' and '{source_set}'"
                )
        return owner

    sets = list(t.source_sets.values())
    external = claims(
        "External git source path",
        ((e.path, ss.name) for ss in sets for e in ss.external_git_sources),
    )
    claims("Submodule", ((sub, ss.name) for ss in sets for sub in ss.submodules))
    prefixes = claims(
        "Path prefix", ((p.rstrip("/"), ss.name) for ss in sets for p in ss.path_prefixes)
    )
    # rockshard also refuses one source set's path inside (or equal to) another's.
    # Sorted on "path/", everything under a path follows it without a gap.
    paths = sorted(
        {(k.strip("/"), v) for k, v in (*external.items(), *prefixes.items()) if k.strip("/")},
        key=lambda item: (item[0] + "/", item[1]),
    )
    for i, (path, owner) in enumerate(paths):
        for other, other_owner in paths[i + 1 :]:
            if not (other + "/").startswith(path + "/"):
                break
            if other_owner != owner:
                out.append(
                    f"Path '{other}' of source set '{other_owner}' lies inside path '{path}' "
                    f"of source set '{owner}'"
                )
    return out


def check_load_types(text: str) -> None:
    """TheRock refuses, while loading, a ``python_requires`` that is not a list and a
    ``disable_platforms_if_flags_not_set`` that is not a table: same ValueError here."""
    for name, body in tomllib.loads(text).get("artifacts", {}).items():
        if not isinstance(body, dict):
            continue
        requires = body.get("python_requires", [])
        if requires and not isinstance(requires, list):
            raise ValueError(
                f"Artifact '{name}' python_requires must be a list, got {type(requires).__name__}"
            )
        flags = body.get("disable_platforms_if_flags_not_set", {})
        if flags and not isinstance(flags, dict):
            raise ValueError(
                f"Artifact '{name}' disable_platforms_if_flags_not_set "
                f"must be a table, got {type(flags).__name__}"
            )


def therock_messages(topology: Topology) -> list[str]:
    """Every problem of the categories TheRock checks, in TheRock's words and order."""
    return _naming(topology) + _references(topology) + _cycles(topology) + _ownership(topology)


def extra_findings(findings: Iterable[Finding]) -> list[str]:
    """rockshard's findings of the kinds TheRock does not check, each ``file:line: ...``."""
    return [f.format() for f in findings if f.code not in WORDED_CODES]


__all__ = [
    "EXTERNAL_ROOT",
    "WORDED_CODES",
    "check_load_types",
    "external_path_problems",
    "extra_findings",
    "path_prefix_problems",
    "therock_messages",
]
