"""A drop-in for TheRock's ``build_tools/configure_stage.py``: the ``-D`` arguments of a stage
or of some projects.

``from configure_stage import generate_cmake_args, get_stage_features`` becomes
``from action_lib.therock.configure_stage import ...``; ``main(argv)`` runs
``rockshard configure-stage`` with TheRock's flags. :func:`configure_args` is the one pure
function behind both the CLI and :func:`generate_cmake_args`, so they agree argument for argument.

Deliberate differences from TheRock (docs/therock.md says why):

- a stage's features are produced plus the *exact* inbound artifacts (what rockshard fetches),
  not TheRock's over-approximated inbound set;
- arguments are ready for an argv (one per item, no embedded quotes):
  ``-DTHEROCK_DIST_AMDGPU_FAMILIES=a;b`` where TheRock writes ``"a;b"`` with the quotes;
  families are always joined with ``;``;
- platform, processor and flags filter project features as they filter stage features.
"""

from __future__ import annotations

import platform as platform_module
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from action_lib.cmakegen import stage_args
from action_lib.errors import InputError
from action_lib.inputs.lists import parse_list
from action_lib.therock import projects as pj
from action_lib.therock.build_topology import BuildTopology, get_topology
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology

_PYTHONS = ("cp310-cp310", "cp311-cp311", "cp312-cp312", "cp313-cp313", "cp314-cp314")
# The Python installations of TheRock's manylinux build container
# (ghcr.io/rocm/therock_build_manylinux_x86_64): distribution packages build for each.
DIST_PYTHON_EXECUTABLES = ";".join(f"/opt/python/{tag}/bin/python" for tag in _PYTHONS)
# The same Pythons with a shared libpython, for embedded Python (rocgdb).
SHARED_PYTHON_EXECUTABLES = ";".join(f"/opt/python-shared/{tag}/bin/python3" for tag in _PYTHONS)
MANYLINUX_DEFINES = (
    ("DIST_PYTHON_EXECUTABLES", DIST_PYTHON_EXECUTABLES),
    ("SHARED_PYTHON_EXECUTABLES", SHARED_PYTHON_EXECUTABLES),
)

normalize_project_name = pj.normalize_project_name


def log(msg: str) -> None:
    """Print ``msg`` to standard error (TheRock's progress messages)."""
    print(msg, file=sys.stderr, flush=True)


def describe(stage: str | None, projects: Sequence[str] | None) -> str:
    """What a configuration is for, as TheRock's comments say it."""
    if stage and projects:
        return f"stage {stage} + projects: {', '.join(projects)}"
    return stage or f"projects: {', '.join(projects or ())}"


def selected_features(
    topology: Topology,
    maps: pj.ProjectMaps,
    stage: str | None,
    projects: Sequence[str] | None,
    conditions: Conditions = queries.ANYWHERE,
) -> tuple[str, ...]:
    """The features to enable, sorted.

    Projects alone: their features. A stage alone: its produced and (exact) inbound features.
    Both: the features of the projects that stage builds, or the stage's when it builds none of
    them (TheRock's rule: a stage job of a change that touches no project of its own builds the
    whole stage). Raises InputError for an unknown stage.
    """
    if stage is not None:
        queries.require_stage(topology, stage)
    chosen = list(projects or ())
    if chosen and stage is not None:
        chosen = pj.filter_projects_for_stage(topology, maps, chosen, stage)
    if chosen:
        return tuple(sorted(pj.project_features(topology, maps, chosen, conditions)))
    if stage is not None:
        return stage_args.stage_features(topology, stage, conditions)
    return ()


def configure_args(
    topology: Topology,
    maps: pj.ProjectMaps,
    *,
    stage: str | None = None,
    projects: Sequence[str] | None = None,
    conditions: Conditions = queries.ANYWHERE,
    amdgpu_families: Sequence[str] = (),
    dist_amdgpu_families: Sequence[str] = (),
    manylinux: bool = False,
    include_comments: bool = False,
    dialect: str = "therock",
) -> list[str]:
    """The ``-D`` arguments configuring ``stage`` and/or ``projects``; see the module docstring."""
    features = selected_features(topology, maps, stage, projects, conditions)
    return stage_args.feature_args(
        features,
        dialect=dialect,
        amdgpu_families=amdgpu_families,
        dist_amdgpu_families=dist_amdgpu_families,
        defines=MANYLINUX_DEFINES if manylinux else (),
        comment=describe(stage, projects) if include_comments else None,
    )


def _conditions(
    platform_name: str | None, processor_name: str | None, flags: Iterable[str] | None
) -> Conditions:
    return Conditions(platform_name or None, processor_name or None, frozenset(flags or ()))


def get_stage_features(
    topology: BuildTopology | Topology,
    stage_name: str,
    platform_name: str | None = "",
    enabled_flags: set[str] | frozenset[str] | None = None,
    processor_name: str | None = "",
) -> set[str]:
    """The features configuring ``stage_name`` enables (produced and exact inbound artifacts,
    without those disabled on the platform, processor or for want of a flag).

    Raises ValueError for an unknown stage.
    """
    model = topology.topology if isinstance(topology, BuildTopology) else topology
    if stage_name not in model.build_stages:
        hint = pj.nearest(stage_name, model.build_stages)
        raise ValueError(
            f"Unknown stage: {stage_name}" + (f" (nearest: {', '.join(hint)})" if hint else "")
        )
    conditions = _conditions(platform_name, processor_name, enabled_flags)
    return set(stage_args.stage_features(model, stage_name, conditions))


def get_project_features(
    topology: BuildTopology,
    project_names: list[str],
    platform_name: str = "",
    build_dir: Path | None = None,
    *,
    processor_name: str = "",
    enabled_flags: set[str] | frozenset[str] | None = None,
) -> set[str]:
    """Project names to CMake feature names (unknown names are ignored, as in TheRock)."""
    return topology.resolve_projects_to_features(
        project_names, platform_name, build_dir, processor_name, enabled_flags=enabled_flags
    )


def generate_cmake_args(
    stage_name: str | None,
    amdgpu_families: str,
    dist_amdgpu_families: str,
    topology: BuildTopology,
    include_comments: bool = False,
    platform_name: str = platform_module.system().lower(),
    manylinux: bool = False,
    project_names: list[str] | None = None,
    build_dir: Path | None = None,
    *,
    processor_name: str = "",
    enabled_flags: set[str] | frozenset[str] | None = None,
) -> list[str]:
    """The CMake arguments for a stage and/or projects, as ``rockshard configure-stage`` prints
    them (with ``include_comments``, comment and blank lines too).

    Families are ``,`` or ``;`` separated. Raises ValueError for an unknown stage or unreadable
    project maps; unknown project names are ignored, as in TheRock (the CLI refuses them).
    """
    try:
        return configure_args(
            topology.topology,
            topology.project_maps(build_dir),
            stage=stage_name or None,
            projects=[normalize_project_name(p) for p in project_names or ()],
            conditions=_conditions(platform_name, processor_name, enabled_flags),
            amdgpu_families=parse_list(amdgpu_families),
            dist_amdgpu_families=parse_list(dist_amdgpu_families),
            manylinux=manylinux,
            include_comments=include_comments,
        )
    except InputError as exc:
        raise ValueError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """``configure_stage.py`` with TheRock's flags: ``rockshard configure-stage`` takes them all
    (``--stage``, ``--projects``, ``--amdgpu-families``, ``--dist-amdgpu-families``,
    ``--manylinux``, ``--build-dir``, ``--comments``, ``--oneline``, ``--print``,
    ``--output-cmake-args``, ``--gha-output``, ``--list-stages``, ``--list-projects``,
    ``--skip-stages``, ``--platform``). Returns the exit status."""
    from action_lib.cli.main import main as cli_main

    return cli_main(["configure-stage", *(sys.argv[1:] if argv is None else argv)])


__all__ = [
    "DIST_PYTHON_EXECUTABLES",
    "MANYLINUX_DEFINES",
    "SHARED_PYTHON_EXECUTABLES",
    "configure_args",
    "describe",
    "generate_cmake_args",
    "get_project_features",
    "get_stage_features",
    "get_topology",
    "log",
    "main",
    "normalize_project_name",
    "selected_features",
]
