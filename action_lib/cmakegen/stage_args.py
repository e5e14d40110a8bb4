"""The CMake arguments that configure one build stage. Pure: no I/O, no environment.

A stage job configures the whole super-build with every feature off except those of the
artifacts it builds (produced) and of the artifacts it fetches prebuilt (inbound, exact set):
their features must be on so that CMake resolves dependencies, and the bootstrap step marks
them prebuilt so they are not rebuilt. Artifacts disabled under the job's Conditions
(platform, processor, flags) are left out of both sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from action_lib.cmakegen.dialects import dialect
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology


@dataclass(frozen=True)
class StageConfig:
    """What configuring ``stage`` under ``conditions`` enables."""

    stage: str
    type: str
    conditions: Conditions
    produced: tuple[str, ...]  # artifact names, sorted
    inbound: tuple[str, ...]  # artifact names, sorted (exact)
    features: tuple[str, ...]  # feature names of produced + inbound, sorted


@dataclass(frozen=True)
class StageSummary:
    """One line of ``configure-stage --list-stages``."""

    name: str
    type: str
    description: str
    groups: int
    produced: int
    inbound: int


def prefix_of(name: str) -> str:
    """The variable prefix of a dialect (``THEROCK`` or ``ROCKSHARD``)."""
    return dialect(name).prefix


def stage_config(
    topology: Topology, stage: str, conditions: Conditions = queries.ANYWHERE
) -> StageConfig:
    """Produced and inbound artifacts of ``stage`` and their features, under ``conditions``.

    Raises InputError (with a did-you-mean) for an unknown stage.
    """
    queries.require_stage(topology, stage)
    analysis = queries.analyze(topology, conditions)
    produced = analysis.produced[stage]
    inbound = analysis.inbound[stage]
    artifacts = topology.artifacts
    features = sorted({artifacts[name].feature_name for name in (*produced, *inbound)})
    return StageConfig(
        stage=stage,
        type=topology.build_stages[stage].type,
        conditions=conditions,
        produced=produced,
        inbound=inbound,
        features=tuple(features),
    )


def stage_features(
    topology: Topology, stage: str, conditions: Conditions = queries.ANYWHERE
) -> tuple[str, ...]:
    """The feature names configuring ``stage`` enables, sorted."""
    return stage_config(topology, stage, conditions).features


def feature_args(
    features: Sequence[str],
    *,
    dialect: str = "therock",
    amdgpu_families: Sequence[str] = (),
    dist_amdgpu_families: Sequence[str] = (),
    defines: Sequence[tuple[str, str]] = (),
    comment: str | None = None,
) -> list[str]:
    """The ``-D`` arguments enabling ``features`` (in the order given), one argument each (no
    shell quoting): families, the extra ``defines`` (``NAME``, value) under the dialect's
    prefix, ``ENABLE_ALL=OFF``, then ``ENABLE_<F>=ON`` for each feature.

    With ``comment`` (what is configured, e.g. ``math-libs``), ``# ...`` lines and blank lines
    explain each part, as TheRock's ``configure_stage.py --comments`` prints them.
    """
    p = prefix_of(dialect)
    args: list[str] = [f"# CMake arguments for {comment}", ""] if comment else []
    if amdgpu_families:
        args.append(f"-D{p}_AMDGPU_FAMILIES={';'.join(amdgpu_families)}")
    if dist_amdgpu_families:
        args.append(f"-D{p}_DIST_AMDGPU_FAMILIES={';'.join(dist_amdgpu_families)}")
    args.extend(f"-D{p}_{name}={value}" for name, value in defines)
    if comment:
        args += ["", "# Disable all features by default"]
    args.append(f"-D{p}_ENABLE_ALL=OFF")
    if comment:
        args += ["", f"# Enable features for {comment}"]
    args.extend(f"-D{p}_ENABLE_{feature}=ON" for feature in features)
    return args


def is_argument(line: str) -> bool:
    """False for the comment and blank lines of :func:`feature_args`."""
    return bool(line) and not line.startswith("#")


def cmake_args(
    config: StageConfig,
    *,
    dialect: str = "therock",
    amdgpu_families: Sequence[str] = (),
    dist_amdgpu_families: Sequence[str] = (),
) -> list[str]:
    """The ``-D`` arguments of a stage: families, ``ENABLE_ALL=OFF``, then ``ENABLE_<F>=ON``
    for every feature of the stage, sorted (see :func:`feature_args`)."""
    return feature_args(
        config.features,
        dialect=dialect,
        amdgpu_families=amdgpu_families,
        dist_amdgpu_families=dist_amdgpu_families,
    )


def python_requires(topology: Topology, stage: str) -> tuple[str, ...]:
    """pip arguments of the artifacts the stage builds, first occurrence first."""
    queries.require_stage(topology, stage)
    members = topology.group_to_artifacts
    out: dict[str, None] = {}
    for group in topology.build_stages[stage].artifact_groups:
        for name in members.get(group, ()):
            out.update(dict.fromkeys(topology.artifacts[name].python_requires))
    return tuple(out)


def stage_summaries(
    topology: Topology, conditions: Conditions = queries.ANYWHERE
) -> list[StageSummary]:
    """Every stage, in build order, with its type and artifact counts under ``conditions``."""
    analysis = queries.analyze(topology, conditions)
    return [
        StageSummary(
            name=name,
            type=topology.build_stages[name].type,
            description=topology.build_stages[name].description,
            groups=len(topology.build_stages[name].artifact_groups),
            produced=len(analysis.produced[name]),
            inbound=len(analysis.inbound[name]),
        )
        for name in queries.build_order(topology, conditions)
    ]
