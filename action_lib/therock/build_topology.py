"""A drop-in for TheRock's ``build_tools/_therock_utils/build_topology.py``.

Scripts that ``from _therock_utils.build_topology import BuildTopology`` switch to rockshard
with ``from action_lib.therock import BuildTopology``: same class, dataclass and method names,
same return types (lists, sets, dicts of plain names), ``ValueError`` for an unknown stage.
Everything is answered by :mod:`action_lib.topology` (loader, validation, queries); project
selection by :mod:`action_lib.therock.projects`, messages by :mod:`action_lib.therock.validation`.

Deliberate semantics (docs/therock.md lists them all):

- :meth:`BuildTopology.get_inbound_artifacts` keeps TheRock's over-approximation (every artifact
  of the groups the stage's groups depend on, plus transitive artifact deps); rockshard's own
  :func:`action_lib.topology.queries.inbound_artifacts` is exact;
  :func:`action_lib.therock.inbound.compare_inbound` shows the difference.
- An artifact restricted to one ``platform`` counts as disabled on every other platform.
"""

from __future__ import annotations

import graphlib
from pathlib import Path
from typing import Any

from action_lib.errors import InputError
from action_lib.inputs.suggest import suggest
from action_lib.inputs.toml import SYNTAX
from action_lib.therock import model as plain
from action_lib.therock import projects as pj
from action_lib.therock.inbound import therock_inbound
from action_lib.therock.model import (
    Artifact,
    ArtifactGroup,
    BuildStage,
    ExternalGitSource,
    SourceSet,
    Submodule,
)
from action_lib.therock.validation import check_load_types, extra_findings, therock_messages
from action_lib.topology import graph, queries
from action_lib.topology import model as m
from action_lib.topology.loader import check_topology_text, parse_topology
from action_lib.topology.model import Conditions, Topology


def _name(artifact: Artifact | m.Artifact | str) -> str:
    return artifact if isinstance(artifact, str) else artifact.name


class BuildTopology:
    """TheRock's ``BuildTopology``, answered by rockshard's topology engine."""

    def __init__(self, toml_path: str | Path) -> None:
        """Load ``toml_path``; problems are reported by :meth:`validate_topology`, not raised.

        A missing file raises FileNotFoundError; malformed TOML, or a ``python_requires`` or
        ``disable_platforms_if_flags_not_set`` of the wrong type, raises ValueError (as TheRock).
        """
        self.toml_path = Path(toml_path)
        try:
            text = self.toml_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(f"BUILD_TOPOLOGY.toml not found at {self.toml_path}") from None
        topology, findings = parse_topology(text, str(self.toml_path))
        malformed = [f for f in findings if f.code == SYNTAX]
        if malformed:
            raise ValueError(malformed[0].format())
        if any(f.code == "type" for f in findings):
            check_load_types(text)
        self._text = text
        self._maps_dir = self.toml_path.parent / pj.MAPS_DIR
        self._maps: dict[str, pj.ProjectMaps] = {}
        self.topology: Topology = topology
        self.source_sets: dict[str, SourceSet] = {
            n: plain.source_set(s) for n, s in topology.source_sets.items()
        }
        self.build_stages: dict[str, BuildStage] = {
            n: plain.build_stage(s) for n, s in topology.build_stages.items()
        }
        self.artifact_groups: dict[str, ArtifactGroup] = {
            n: plain.artifact_group(g) for n, g in topology.artifact_groups.items()
        }
        self.artifacts: dict[str, Artifact] = {
            n: plain.artifact(a) for n, a in topology.artifacts.items()
        }

    # --- lookups -----------------------------------------------------------------------------

    def _stage(self, build_stage: str) -> str:
        if build_stage not in self.topology.build_stages:
            hint = suggest(build_stage, self.topology.build_stages)
            raise ValueError(
                f"Build stage '{build_stage}' not found" + (f" ({hint})" if hint else "")
            )
        return build_stage

    def _model(self, artifact: Artifact | str) -> m.Artifact:
        name = _name(artifact)
        try:
            return self.topology.artifacts[name]
        except KeyError:
            raise ValueError(f"Artifact '{name}' not found") from None

    def get_build_stages(self) -> list[BuildStage]:
        """All build stages, in file order."""
        return list(self.build_stages.values())

    def get_artifact_groups(self) -> list[ArtifactGroup]:
        """All artifact groups, in file order."""
        return list(self.artifact_groups.values())

    def get_artifacts(self) -> list[Artifact]:
        """All artifacts, in file order."""
        return list(self.artifacts.values())

    def get_source_sets(self) -> list[SourceSet]:
        """All source sets, in file order."""
        return list(self.source_sets.values())

    def get_artifacts_in_group(self, group_name: str) -> list[Artifact]:
        """The artifacts of ``group_name`` (empty for an unknown group), in file order."""
        return [self.artifacts[n] for n in self.topology.group_to_artifacts.get(group_name, ())]

    def is_artifact_disabled_on_platform(
        self,
        artifact: Artifact | str,
        platform_name: str | None,
        enabled_flags: set[str] | frozenset[str] | None = None,
    ) -> bool:
        """True when the artifact is off on ``platform_name`` given ``enabled_flags``."""
        if not platform_name:
            return False
        return self._model(artifact).disabled_on_platform(
            platform_name, frozenset(enabled_flags or ())
        )

    def is_artifact_disabled_on_processor(
        self, artifact: Artifact | str, processor_name: str | None
    ) -> bool:
        """True when the artifact is off on CPU ``processor_name``."""
        return bool(processor_name) and self._model(artifact).disabled_on_processor(processor_name)

    def get_artifact_feature_name(self, artifact: Artifact | str) -> str:
        """The effective feature name (override, else the name upper-cased, ``-`` as ``_``)."""
        return self._model(artifact).feature_name

    def get_artifact_feature_group(self, artifact: Artifact | str) -> str:
        """The effective feature group (override, else the group name upper-cased)."""
        return self._model(artifact).feature_group

    # --- stages --------------------------------------------------------------------------------

    def get_inbound_artifacts(self, build_stage: str) -> set[str]:
        """TheRock's (over-approximated) set of artifacts the stage fetches."""
        try:
            return therock_inbound(self.topology, self._stage(build_stage))
        except InputError as exc:
            raise ValueError(str(exc)) from None

    def get_produced_artifacts(self, build_stage: str) -> set[str]:
        """Every artifact of the stage's groups."""
        members = self.topology.group_to_artifacts
        groups = self.build_stages[self._stage(build_stage)].artifact_groups
        return {a for g in groups for a in members.get(g, ())}

    def validate_topology(self) -> list[str]:
        """Every problem in TheRock's words (see :mod:`action_lib.therock.validation`), then
        rockshard's further findings, located; [] when valid."""
        _, findings = check_topology_text(self._text, str(self.toml_path))
        return therock_messages(self.topology) + extra_findings(findings)

    def get_dependency_graph(self) -> dict[str, Any]:
        """Stages, groups and artifacts with their dependencies (TheRock's JSON shape)."""
        return {
            "build_stages": {
                s.name: {
                    "type": s.type,
                    "artifact_groups": s.artifact_groups,
                    "inbound_artifacts": sorted(self.get_inbound_artifacts(s.name)),
                    "produced_artifacts": sorted(self.get_produced_artifacts(s.name)),
                }
                for s in self.build_stages.values()
            },
            "artifact_groups": {
                g.name: {
                    "type": g.type,
                    "depends_on": g.artifact_group_deps,
                    "artifacts": [a.name for a in self.get_artifacts_in_group(g.name)],
                }
                for g in self.artifact_groups.values()
            },
            "artifacts": {
                a.name: {
                    "type": a.type,
                    "artifact_group": a.artifact_group,
                    "depends_on": a.artifact_deps,
                    "platform": a.platform,
                }
                for a in self.artifacts.values()
            },
        }

    def get_build_order(self) -> list[str]:
        """Every stage after the stages it depends on, ties by name: those building the groups
        its groups name in ``artifact_group_deps`` (even when no artifact declares the
        dependency yet) and those producing its (TheRock) inbound artifacts."""
        producer = self.topology.artifact_to_stage
        by_group = self.topology.group_to_stages
        upstream: dict[str, set[str]] = {}
        for name, stage in self.topology.build_stages.items():
            deps = {producer[a] for a in self.get_inbound_artifacts(name) if a in producer}
            for group in stage.artifact_groups:
                body = self.topology.artifact_groups.get(group)
                for dep in body.artifact_group_deps if body is not None else ():
                    deps.update(by_group.get(dep, ()))
            upstream[name] = deps - {name}
        try:
            return graph.order(self.build_stages, upstream)
        except graphlib.CycleError as exc:
            raise ValueError(f"stage dependency cycle: {' -> '.join(exc.args[1])}") from None

    # --- indexes -------------------------------------------------------------------------------

    def get_source_set_to_artifact_groups(self) -> dict[str, list[str]]:
        """Source set -> the artifact groups that use it (every source set listed)."""
        out: dict[str, list[str]] = {name: [] for name in self.source_sets}
        for group in self.artifact_groups.values():
            for name in group.source_sets:
                out.setdefault(name, []).append(group.name)
        return out

    def get_artifact_group_to_artifacts(self) -> dict[str, list[str]]:
        """Artifact group -> its artifact names (every group listed)."""
        return {g: list(a) for g, a in self.topology.group_to_artifacts.items()}

    def get_artifact_group_to_build_stages(self) -> dict[str, list[str]]:
        """Artifact group -> the stages that build it (every group listed)."""
        stages = self.topology.group_to_stages
        out = {g: list(stages.get(g, ())) for g in self.artifact_groups}
        out.update({g: list(s) for g, s in stages.items() if g not in out})
        return out

    def get_artifact_to_producer_stages(self) -> dict[str, list[str]]:
        """Artifact -> the stages that build its group."""
        stages = self.topology.group_to_stages
        return {a.name: list(stages.get(a.artifact_group, ())) for a in self.artifacts.values()}

    def get_stage_to_source_sets(self, platform: str | None = None) -> dict[str, list[str]]:
        """Stage -> the source sets it checks out on ``platform`` (every stage listed)."""
        return {
            s: [ss.name for ss in self.get_source_sets_for_stage(s, platform)]
            for s in self.build_stages
        }

    def get_source_set_to_stages(self, platform: str | None = None) -> dict[str, list[str]]:
        """Source set -> the stages that check it out on ``platform`` (every source set listed)."""
        out: dict[str, list[str]] = {name: [] for name in self.source_sets}
        for stage, names in self.get_stage_to_source_sets(platform).items():
            for name in names:
                out.setdefault(name, []).append(stage)
        return out

    def get_submodule_to_source_set(self) -> dict[str, str]:
        """Submodule name -> the source set that owns it."""
        return queries.submodule_to_source_set(self.topology)

    # --- source sets and submodules ------------------------------------------------------------

    def get_source_set_for_submodule(
        self, submodule_name: str, platform: str | None = None
    ) -> SourceSet | None:
        """The first source set listing ``submodule_name`` (and enabled on ``platform``), else None."""
        for source_set in self.source_sets.values():
            if platform and platform in source_set.disable_platforms:
                continue
            if any(s.name == submodule_name for s in source_set.submodules):
                return source_set
        return None

    def get_source_set_for_path(self, path: str, platform: str | None = None) -> SourceSet | None:
        """The first source set whose path_prefixes contain ``path``, else None."""
        normalized = path.strip().removeprefix("./").lstrip("/")
        for source_set in self.source_sets.values():
            if platform and platform in source_set.disable_platforms:
                continue
            for prefix in source_set.path_prefixes:
                prefix = prefix.rstrip("/")
                if normalized == prefix or normalized.startswith(prefix + "/"):
                    return source_set
        return None

    def get_source_sets_for_submodules(
        self, submodule_names: list[str], platform: str | None = None
    ) -> list[SourceSet]:
        """The source sets of ``submodule_names``, without repeats; unknown names are skipped."""
        found = (self.get_source_set_for_submodule(n, platform) for n in submodule_names)
        return list({s.name: s for s in found if s is not None}.values())

    def get_submodules_for_source_set(self, source_set_name: str) -> list[Submodule]:
        """The submodules of a source set; ValueError when unknown."""
        if source_set_name not in self.source_sets:
            raise ValueError(f"Source set '{source_set_name}' not found")
        return self.source_sets[source_set_name].submodules

    def get_external_git_sources_for_source_set(
        self, source_set_name: str
    ) -> list[ExternalGitSource]:
        """The external git sources of a source set; ValueError when unknown."""
        if source_set_name not in self.source_sets:
            raise ValueError(f"Source set '{source_set_name}' not found")
        return self.source_sets[source_set_name].external_git_sources

    def get_source_sets_for_stage(
        self, build_stage: str, platform: str | None = None
    ) -> list[SourceSet]:
        """The source sets of the stage's groups enabled on ``platform``, first named first."""
        names: dict[str, None] = {}
        for group in self.build_stages[self._stage(build_stage)].artifact_groups:
            body = self.artifact_groups.get(group)
            names.update(dict.fromkeys(body.source_sets if body is not None else ()))
        sets = (self.source_sets[n] for n in names if n in self.source_sets)
        return [s for s in sets if not (platform and platform in s.disable_platforms)]

    def get_submodules_for_stage(
        self, build_stage: str, platform: str | None = None
    ) -> list[Submodule]:
        """The submodules of :meth:`get_source_sets_for_stage`, first named first, once each."""
        found: dict[str, Submodule] = {}
        for source_set in self.get_source_sets_for_stage(build_stage, platform):
            for submodule in source_set.submodules:
                found.setdefault(submodule.name, submodule)
        return list(found.values())

    def get_external_git_sources_for_stage(
        self, build_stage: str, platform: str | None = None
    ) -> list[ExternalGitSource]:
        """The external git sources the stage fetches on ``platform``, one per path."""
        out: dict[str, ExternalGitSource] = {}
        for source_set in self.get_source_sets_for_stage(build_stage, platform):
            for source in source_set.external_git_sources:
                out.setdefault(source.path, source)
        return list(out.values())

    def get_all_submodules(self) -> list[Submodule]:
        """Every submodule of every source set, once."""
        out: dict[str, Submodule] = {}
        for source_set in self.source_sets.values():
            for submodule in source_set.submodules:
                out.setdefault(submodule.name, submodule)
        return list(out.values())

    def get_all_external_git_sources(self) -> list[ExternalGitSource]:
        """Every external git source of every source set, one per path."""
        out: dict[str, ExternalGitSource] = {}
        for source_set in self.source_sets.values():
            for source in source_set.external_git_sources:
                out.setdefault(source.path, source)
        return list(out.values())

    def get_python_requires_for_stage(self, build_stage: str) -> list[str]:
        """pip install arguments of the stage's artifacts, without repeats, first seen first."""
        seen: dict[str, None] = {}
        for group in self.build_stages[self._stage(build_stage)].artifact_groups:
            for artifact in self.get_artifacts_in_group(group):
                seen.update(dict.fromkeys(artifact.python_requires))
        return list(seen)

    # --- project selection (TheRock's --projects; see action_lib.therock.projects) -----------------

    def project_maps(self, build_dir: Path | None = None) -> pj.ProjectMaps:
        """TheRock's project maps next to the topology (``build_tools/``), with a configured
        ``build_dir``'s ``artifact_subprojects.json`` when it has one. ValueError if malformed."""
        key = str(build_dir) if build_dir is not None else ""
        if key not in self._maps:
            try:
                self._maps[key] = pj.load_project_maps(self._maps_dir, build_dir)
            except InputError as exc:
                raise ValueError(str(exc)) from None
        return self._maps[key]

    def load_subproject_manifest(
        self, manifest_path: Path | None = None
    ) -> dict[str, list[str]] | None:
        """``artifact_subprojects.json`` (default: in ``build_tools/``); None when absent."""
        path = manifest_path if manifest_path is not None else self._maps_dir / pj.SUBPROJECTS_FILE
        try:
            return pj.read_subproject_manifest(Path(path))
        except InputError as exc:
            raise ValueError(str(exc)) from None

    def _resolving(self, build_dir: Path | None) -> tuple[Topology, pj.ProjectMaps]:
        return self.topology, self.project_maps(build_dir)

    def get_subproject_to_feature_map(self, build_dir: Path | None = None) -> dict[str, str]:
        """Lower-cased subproject -> the feature that gates it (``subproject_features``)."""
        try:
            return pj.feature_map(*self._resolving(build_dir))
        except InputError as exc:
            raise ValueError(str(exc)) from None

    def get_alias_to_artifact_map(self, build_dir: Path | None = None) -> dict[str, str]:
        """Lower-cased project, subproject, split database or artifact name -> artifact."""
        return pj.alias_map(*self._resolving(build_dir))

    def resolve_project_to_artifact(
        self, project: str, build_dir: Path | None = None
    ) -> str | None:
        """The artifact a project name stands for, or None."""
        return pj.resolve_project(*self._resolving(build_dir), project)

    def resolve_projects_to_features(
        self,
        project_names: list[str],
        platform_name: str | None = "",
        build_dir: Path | None = None,
        processor_name: str | None = "",
        *,
        enabled_flags: set[str] | frozenset[str] | None = None,
    ) -> set[str]:
        """The features building ``project_names``, without artifacts disabled on the platform,
        processor or for want of a flag; unknown names are ignored. ValueError for bad maps."""
        conditions = Conditions(
            platform_name or None, processor_name or None, frozenset(enabled_flags or ())
        )
        try:
            return pj.project_features(*self._resolving(build_dir), project_names, conditions)
        except InputError as exc:
            raise ValueError(str(exc)) from None

    def get_stage_for_artifact(self, artifact_name: str) -> str | None:
        """The (first) stage producing ``artifact_name``, or None."""
        return pj.stage_for_artifact(self.topology, artifact_name)

    def get_stages_for_projects(
        self, project_names: list[str], build_dir: Path | None = None
    ) -> set[str]:
        """The stages needed to build ``project_names`` and what they depend on."""
        return pj.stages_for_projects(*self._resolving(build_dir), project_names)

    def get_all_stage_names(self) -> set[str]:
        """Every stage name."""
        return set(self.build_stages)

    def filter_projects_for_stage(
        self, project_names: list[str], stage_name: str, build_dir: Path | None = None
    ) -> list[str]:
        """The names (as given) of the projects ``stage_name`` builds; [] for an unknown stage."""
        return pj.filter_projects_for_stage(*self._resolving(build_dir), project_names, stage_name)

    # TheRock's later names for the same questions.
    resolve_alias_to_artifact = resolve_project_to_artifact
    resolve_artifacts_to_features = resolve_projects_to_features
    get_stages_for_artifacts = get_stages_for_projects


def get_topology(topology_path: str | Path | None = None) -> BuildTopology:
    """Load ``topology_path`` (default: ``BUILD_TOPOLOGY.toml`` in the current directory)."""
    path = Path("BUILD_TOPOLOGY.toml") if topology_path is None else Path(topology_path)
    if not path.exists():
        raise FileNotFoundError(f"BUILD_TOPOLOGY.toml not found at {path}")
    return BuildTopology(path)


__all__ = [
    "Artifact",
    "ArtifactGroup",
    "BuildStage",
    "BuildTopology",
    "ExternalGitSource",
    "SourceSet",
    "Submodule",
    "get_topology",
]
