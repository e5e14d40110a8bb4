"""The immutable, typed model of a ``BUILD_TOPOLOGY.toml`` (schema 2.0)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal, get_args

from action_lib.inputs.toml import LineIndex

PLATFORMS = ("linux", "windows")
PROCESSORS = ("x86_64", "aarch64", "ppc64le")
# The loader keeps a value outside these sets as written, for validation to report.
StageType = Literal["generic", "per-arch"]
ArtifactType = Literal["target-neutral", "target-specific"]
STAGE_TYPES: tuple[StageType, ...] = get_args(StageType)
GROUP_TYPES: tuple[StageType, ...] = get_args(StageType)
ARTIFACT_TYPES: tuple[ArtifactType, ...] = get_args(ArtifactType)


def default_feature_name(name: str) -> str:
    """TheRock's default: the name upper-cased with ``-`` turned into ``_``."""
    return name.upper().replace("-", "_")


@dataclass(frozen=True)
class ExternalGitSource:
    """A git repository cloned at a pinned commit into ``path``."""

    name: str
    origin: str
    commit: str
    path: str


@dataclass(frozen=True)
class SourceSet:
    """A grouping of submodules, external sources and sparse path prefixes."""

    name: str
    description: str = ""
    submodules: tuple[str, ...] = ()
    external_git_sources: tuple[ExternalGitSource, ...] = ()
    disable_platforms: tuple[str, ...] = ()
    path_prefixes: tuple[str, ...] = ()

    def enabled_on(self, platform: str | None) -> bool:
        """False when the source set is disabled on ``platform``."""
        return platform is None or platform not in self.disable_platforms


@dataclass(frozen=True)
class BuildStage:
    """A CI job (or one job per GPU family when per-arch)."""

    name: str
    description: str = ""
    artifact_groups: tuple[str, ...] = ()
    type: StageType = "generic"

    @property
    def per_arch(self) -> bool:
        """True for a stage that fans out per GPU family."""
        return self.type == "per-arch"


@dataclass(frozen=True)
class ArtifactGroup:
    """A logical grouping of artifacts with shared dependencies and sources."""

    name: str
    description: str = ""
    type: StageType = "generic"
    artifact_group_deps: tuple[str, ...] = ()
    source_sets: tuple[str, ...] = ()
    disable_platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Artifact:
    """An individual build output, the packaging unit."""

    name: str
    artifact_group: str
    type: ArtifactType = "target-neutral"
    artifact_deps: tuple[str, ...] = ()
    feature_name: str = ""  # effective: the loader fills TheRock's default
    feature_group: str = ""  # effective: the loader fills TheRock's default
    platform: str | None = None
    disable_platforms: tuple[str, ...] = ()
    disable_platforms_if_flags_not_set: tuple[tuple[str, str], ...] = ()
    disable_processors: tuple[str, ...] = ()
    python_requires: tuple[str, ...] = ()
    split_databases: tuple[str, ...] = ()
    test_artifacts: tuple[str, ...] = ()
    ci_disabled: bool = False

    def disabled_on_platform(
        self, platform: str | None, flags: frozenset[str] = frozenset()
    ) -> bool:
        """True when the artifact is off on ``platform`` given the enabled ``flags``."""
        if platform is None:
            return False
        if self.platform is not None and self.platform != platform:
            return True
        if platform in self.disable_platforms:
            return True
        return any(
            p == platform and flag not in flags
            for p, flag in self.disable_platforms_if_flags_not_set
        )

    def disabled_on_processor(self, processor: str | None) -> bool:
        """True when the artifact is off on ``processor``."""
        return processor is not None and processor in self.disable_processors


@dataclass(frozen=True)
class Conditions:
    """Where a build runs: platform, processor and enabled flags (None: everywhere)."""

    platform: str | None = None
    processor: str | None = None
    flags: frozenset[str] = frozenset()

    def enables(self, artifact: Artifact, group: ArtifactGroup | None = None) -> bool:
        """True when ``artifact`` is built under these conditions."""
        if artifact.disabled_on_platform(self.platform, self.flags):
            return False
        if artifact.disabled_on_processor(self.processor):
            return False
        return not (
            group is not None
            and self.platform is not None
            and self.platform in group.disable_platforms
        )


@dataclass(frozen=True, eq=False)
class Topology:
    """A whole topology. Mappings keep the file's order; use sorted() for determinism."""

    path: str
    version: str
    description: str
    source_sets: Mapping[str, SourceSet] = field(default_factory=dict)
    build_stages: Mapping[str, BuildStage] = field(default_factory=dict)
    artifact_groups: Mapping[str, ArtifactGroup] = field(default_factory=dict)
    artifacts: Mapping[str, Artifact] = field(default_factory=dict)
    lines: LineIndex = field(default_factory=lambda: LineIndex(""), repr=False)

    def __post_init__(self) -> None:
        for name in ("source_sets", "build_stages", "artifact_groups", "artifacts"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def line(self, *path: str) -> int:
        """The line of a table or key, e.g. ``line("artifacts", "blas", "artifact_deps")``.

        Lines are indexed on first use, so loading a clean topology pays nothing for them.
        """
        return self.lines.line(*path)

    @cached_property
    def group_to_stages(self) -> Mapping[str, tuple[str, ...]]:
        """Artifact group name to the stages that list it (normally one)."""
        out: dict[str, list[str]] = {}
        for stage in self.build_stages.values():
            for group in stage.artifact_groups:
                out.setdefault(group, []).append(stage.name)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    @cached_property
    def group_to_artifacts(self) -> Mapping[str, tuple[str, ...]]:
        """Artifact group name to its artifacts, in file order."""
        out: dict[str, list[str]] = {g: [] for g in self.artifact_groups}
        for artifact in self.artifacts.values():
            out.setdefault(artifact.artifact_group, []).append(artifact.name)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    @cached_property
    def artifact_to_stage(self) -> Mapping[str, str]:
        """Artifact name to the (first) stage that produces it; absent when none does."""
        out: dict[str, str] = {}
        for artifact in self.artifacts.values():
            stages = self.group_to_stages.get(artifact.artifact_group, ())
            if stages:
                out[artifact.name] = stages[0]
        return MappingProxyType(out)
