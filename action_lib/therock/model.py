"""TheRock's dataclasses (``build_tools/_therock_utils/build_topology.py``), made from rockshard's model.

Same class and field names as TheRock, mutable and with lists (TheRock's callers append to
them and compare them with lists); each is built from the frozen :mod:`action_lib.topology.model`
object of the same name, never parsed again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from action_lib.topology import model as m
from action_lib.topology.model import default_feature_name


@dataclass
class Submodule:
    """A git submodule (equal and hashed by name, as in TheRock)."""

    name: str

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Submodule) and self.name == other.name


@dataclass(unsafe_hash=True)
class ExternalGitSource:
    """A git repository fetched at a pinned commit into ``path`` (under ``optional-sources/``)."""

    name: str
    origin: str
    commit: str
    path: str


@dataclass
class SourceSet:
    """A grouping of submodules for partial checkouts."""

    name: str
    description: str
    submodules: list[Submodule] = field(default_factory=list)
    external_git_sources: list[ExternalGitSource] = field(default_factory=list)
    disable_platforms: list[str] = field(default_factory=list)
    path_prefixes: list[str] = field(default_factory=list)


@dataclass
class BuildStage:
    """A build stage (CI job)."""

    name: str
    description: str
    artifact_groups: list[str]
    type: str = "generic"


@dataclass
class ArtifactGroup:
    """A logical grouping of related artifacts."""

    name: str
    description: str
    type: str
    artifact_group_deps: list[str] = field(default_factory=list)
    source_sets: list[str] = field(default_factory=list)
    disable_platforms: list[str] = field(default_factory=list)


@dataclass
class Artifact:
    """An individual build output. ``feature_name``/``feature_group`` are None unless overridden."""

    name: str
    artifact_group: str
    type: str
    artifact_deps: list[str] = field(default_factory=list)
    platform: str | None = None
    feature_name: str | None = None
    feature_group: str | None = None
    disable_platforms: list[str] = field(default_factory=list)
    disable_platforms_if_flags_not_set: dict[str, str] = field(default_factory=dict)
    disable_processors: list[str] = field(default_factory=list)
    ci_disabled: bool = False
    python_requires: list[str] = field(default_factory=list)
    split_databases: list[str] = field(default_factory=list)
    test_artifacts: list[str] = field(default_factory=list)


def _plain(cls: type[Any], obj: object, **override: Any) -> Any:
    """A TheRock dataclass from a rockshard model object: same field names, tuples as lists."""
    names = [f.name for f in dataclasses.fields(cls) if f.name not in override]
    values = {n: getattr(obj, n) for n in names}
    return cls(**{k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}, **override)


def source_set(s: m.SourceSet) -> SourceSet:
    """TheRock's SourceSet of a model source set."""
    sources = [
        ExternalGitSource(e.name, e.origin, e.commit, e.path) for e in s.external_git_sources
    ]
    result: SourceSet = _plain(
        SourceSet, s, submodules=[Submodule(n) for n in s.submodules], external_git_sources=sources
    )
    return result


def build_stage(s: m.BuildStage) -> BuildStage:
    """TheRock's BuildStage of a model stage."""
    result: BuildStage = _plain(BuildStage, s)
    return result


def artifact_group(g: m.ArtifactGroup) -> ArtifactGroup:
    """TheRock's ArtifactGroup of a model group."""
    result: ArtifactGroup = _plain(ArtifactGroup, g)
    return result


def artifact(a: m.Artifact) -> Artifact:
    """TheRock's Artifact of a model artifact: feature overrides None when they are the default."""
    result: Artifact = _plain(
        Artifact,
        a,
        feature_name=None if a.feature_name == default_feature_name(a.name) else a.feature_name,
        feature_group=None
        if a.feature_group == default_feature_name(a.artifact_group)
        else a.feature_group,
        disable_platforms_if_flags_not_set=dict(a.disable_platforms_if_flags_not_set),
    )
    return result


__all__ = [
    "Artifact",
    "ArtifactGroup",
    "BuildStage",
    "ExternalGitSource",
    "SourceSet",
    "Submodule",
    "artifact",
    "artifact_group",
    "build_stage",
    "source_set",
]
