"""Project selection: TheRock's project names resolved to artifacts, features and stages.

TheRock builds only some projects (``configure_stage.py --projects``, for example the projects a
rocm-libraries or rocm-systems change touched). A project name is resolved, case-insensitively,
through these layers (a later layer wins):

1. the CMake subprojects of each artifact, ``build_tools/artifact_subprojects.json`` (or the one a
   configured build directory holds): ``rocBLAS`` -> ``blas``; a subproject listed by several
   artifacts belongs to the first in the topology's file order, as in TheRock;
2. every artifact's ``split_databases``: ``hipblaslt`` -> ``blas``;
3. the rocm-systems directories, ``rocm_systems_projects`` of ``build_tools/project_mappings.json``:
   ``hip`` -> ``core-hip``;
4. artifact names themselves: ``rocprofiler-compute`` always means that artifact.

A few subprojects are gated by a feature other than their artifact's (``subproject_features`` of
``project_mappings.json``: ``hipSPARSE`` is built in ``blas`` but enabled by ``SPARSE``).

Pure except :func:`load_project_maps` and :func:`read_subproject_manifest`, which read the JSON
files (a missing file is an empty map, a malformed one an InputError).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from action_lib.errors import InputError
from action_lib.inputs.lists import parse_list
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology

SUBPROJECTS_FILE = "artifact_subprojects.json"
MAPPINGS_FILE = "project_mappings.json"
MAPS_DIR = "build_tools"


@dataclass(frozen=True)
class ProjectMaps:
    """TheRock's two project maps, as read (empty when the files are absent)."""

    subprojects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # artifact -> names
    systems_projects: Mapping[str, str] = field(default_factory=dict)  # directory -> artifact
    subproject_features: Mapping[str, str] = field(default_factory=dict)  # subproject -> feature
    files: tuple[str, ...] = ()  # the files they came from, for messages

    def __post_init__(self) -> None:
        for name in ("subprojects", "systems_projects", "subproject_features"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None


def _string_table(path: Path, data: Any, what: str) -> dict[str, str]:
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InputError(f"{path}: {what} must be a table of strings")
    return dict(data)


def read_subproject_manifest(path: Path) -> dict[str, list[str]] | None:
    """``artifact_subprojects.json`` (artifact -> its CMake subprojects); None when absent."""
    if not path.is_file():
        return None
    data = _read_json(path)
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in data.values()
    ):
        raise InputError(f"{path}: must map each artifact name to a list of subproject names")
    return {str(k): list(v) for k, v in data.items()}


def load_project_maps(maps_dir: Path, build_dir: Path | None = None) -> ProjectMaps:
    """The maps of ``maps_dir`` (TheRock's ``build_tools``); a build directory's own
    ``artifact_subprojects.json`` (written by CMake at configure time) wins when present."""
    files: list[str] = []
    manifest_path = maps_dir / SUBPROJECTS_FILE
    if build_dir is not None and (build_dir / SUBPROJECTS_FILE).is_file():
        manifest_path = build_dir / SUBPROJECTS_FILE
    manifest = read_subproject_manifest(manifest_path)
    if manifest is not None:
        files.append(str(manifest_path))
    systems: dict[str, str] = {}
    features: dict[str, str] = {}
    mappings_path = maps_dir / MAPPINGS_FILE
    if mappings_path.is_file():
        data = _read_json(mappings_path)
        if not isinstance(data, dict):
            raise InputError(f"{mappings_path}: must be a table")
        systems = _string_table(
            mappings_path, data.get("rocm_systems_projects", {}), "rocm_systems_projects"
        )
        features = _string_table(
            mappings_path, data.get("subproject_features", {}), "subproject_features"
        )
        files.append(str(mappings_path))
    return ProjectMaps(
        {k: tuple(v) for k, v in (manifest or {}).items()}, systems, features, tuple(files)
    )


def normalize_project_name(name: str) -> str:
    """``projects/hip`` -> ``hip``, ``hip/src/x.cpp`` -> ``hip`` (changed paths of a monorepo)."""
    name = name.strip().removeprefix("projects/")
    return name.split("/", 1)[0]


def split_projects(values: Iterable[str]) -> list[str]:
    """Project names from ``["a,b", "c"]`` (a list as :func:`parse_list` reads it), normalized,
    first seen first."""
    out = dict.fromkeys(normalize_project_name(part) for part in parse_list(values))
    return [p for p in out if p]


def alias_map(topology: Topology, maps: ProjectMaps) -> dict[str, str]:
    """Lower-cased project name -> artifact, through the layers of the module docstring."""
    out: dict[str, str] = {}
    for artifact in topology.artifacts:
        for sub in maps.subprojects.get(artifact, ()):
            out.setdefault(sub.lower(), artifact)
    for a in topology.artifacts.values():
        out.update({db.lower(): a.name for db in a.split_databases})
    out.update({d.lower(): a for d, a in maps.systems_projects.items() if a in topology.artifacts})
    out.update({name.lower(): name for name in topology.artifacts})
    return out


def feature_map(topology: Topology, maps: ProjectMaps) -> dict[str, str]:
    """Lower-cased subproject -> the feature gating it (``subproject_features``).

    Raises InputError for a feature no artifact declares (CMake would refuse it).
    """
    known = {a.feature_name for a in topology.artifacts.values()}
    for sub, feature in sorted(maps.subproject_features.items()):
        if feature not in known:
            where = maps.files[-1] if maps.files else MAPPINGS_FILE
            raise InputError(
                f"{where}: subproject '{sub}' maps to feature '{feature}', which no artifact of"
                f" {topology.path} declares"
            )
    return {sub.lower(): feature for sub, feature in maps.subproject_features.items()}


def known_projects(topology: Topology, maps: ProjectMaps) -> list[str]:
    """Every name a project may be given as, lower-cased, sorted."""
    return sorted(set(alias_map(topology, maps)) | set(feature_map(topology, maps)))


def nearest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` names of ``choices`` closest to ``word`` (case-insensitively), best first."""
    return difflib.get_close_matches(word.lower(), list(choices), n=n, cutoff=0.6)


def check_projects(topology: Topology, maps: ProjectMaps, names: Sequence[str]) -> None:
    """Raise InputError, one line naming every unknown project and its nearest names."""
    known = known_projects(topology, maps)
    known_set = set(known)
    parts = []
    for name in names:
        if name.lower() in known_set:
            continue
        close = nearest(name, known)
        parts.append(
            f"'{name}' (nearest: {', '.join(close)})" if close else f"'{name}' (no close name)"
        )
    if parts:
        noun = "project" if len(parts) == 1 else "projects"
        where = f" or a name in {', '.join(maps.files)}" if maps.files else ""
        raise InputError(f"unknown {noun} {'; '.join(parts)}; a project is an artifact name{where}")


def resolve_project(topology: Topology, maps: ProjectMaps, name: str) -> str | None:
    """The artifact a project name stands for, or None."""
    return alias_map(topology, maps).get(name.lower())


def project_features(
    topology: Topology,
    maps: ProjectMaps,
    names: Iterable[str],
    conditions: Conditions = queries.ANYWHERE,
) -> set[str]:
    """The features that build ``names``; unknown names and artifacts disabled under
    ``conditions`` give nothing. Only the projects' own features: CMake enables what they
    require (``REQUIRES``)."""
    features = feature_map(topology, maps)
    aliases = alias_map(topology, maps)
    groups = topology.artifact_groups
    enabled_features = {
        a.feature_name
        for a in topology.artifacts.values()
        if conditions.enables(a, groups.get(a.artifact_group))
    }
    out: set[str] = set()
    for name in names:
        key = name.lower()
        if key in features:
            if features[key] in enabled_features:
                out.add(features[key])
            continue
        artifact = aliases.get(key)
        if artifact is not None:
            a = topology.artifacts[artifact]
            if conditions.enables(a, groups.get(a.artifact_group)):
                out.add(a.feature_name)
    return out


def stage_for_artifact(topology: Topology, artifact: str) -> str | None:
    """The (first) stage building ``artifact``, or None."""
    return topology.artifact_to_stage.get(artifact)


def stages_for_projects(topology: Topology, maps: ProjectMaps, names: Iterable[str]) -> set[str]:
    """The stages needed to build ``names`` (TheRock's ``get_stages_for_projects``).

    The stages of the projects' artifacts and of their ``test_artifacts`` (transitively), then
    every stage producing an ``artifact_deps`` of any artifact of a stage already needed. Like
    TheRock's, it takes whole stages: a superset of what the projects need, safe for skipping
    the other stages. Unknown names are ignored.
    """
    aliases = alias_map(topology, maps)
    todo = [a for n in names if (a := aliases.get(n.lower())) is not None]
    wanted: set[str] = set(todo)
    while todo:
        for test in topology.artifacts[todo.pop()].test_artifacts:
            if test in topology.artifacts and test not in wanted:
                wanted.add(test)
                todo.append(test)
    stages = {s for a in wanted if (s := stage_for_artifact(topology, a)) is not None}
    pending = list(stages)
    members = topology.group_to_artifacts
    while pending:
        for group in topology.build_stages[pending.pop()].artifact_groups:
            for name in members.get(group, ()):
                for dep in topology.artifacts[name].artifact_deps:
                    producer = stage_for_artifact(topology, dep)
                    if producer is not None and producer not in stages:
                        stages.add(producer)
                        pending.append(producer)
    return stages


def filter_projects_for_stage(
    topology: Topology, maps: ProjectMaps, names: Sequence[str], stage: str
) -> list[str]:
    """The names (as given) whose artifact ``stage`` builds; [] for an unknown stage."""
    if stage not in topology.build_stages:
        return []
    aliases = alias_map(topology, maps)
    return [
        n
        for n in names
        if (a := aliases.get(n.lower())) is not None and stage_for_artifact(topology, a) == stage
    ]


__all__ = [
    "MAPPINGS_FILE",
    "MAPS_DIR",
    "SUBPROJECTS_FILE",
    "ProjectMaps",
    "alias_map",
    "check_projects",
    "feature_map",
    "filter_projects_for_stage",
    "known_projects",
    "load_project_maps",
    "nearest",
    "normalize_project_name",
    "project_features",
    "read_subproject_manifest",
    "resolve_project",
    "split_projects",
    "stage_for_artifact",
    "stages_for_projects",
]
