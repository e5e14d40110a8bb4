"""The ``therock`` dialect: what TheRock's CMakeLists.txt includes next to therock_features.cmake.

Same names as TheRock's ``topology_to_cmake.py`` (``THEROCK_*`` variables, ``artifact-*``,
``artifact-group-*`` and ``stage-*`` targets), with two differences: features are declared in a
true dependency order, and every list is sorted, so reordering the TOML file changes nothing.
"""

from __future__ import annotations

from action_lib.cmakegen.common import (
    feature_declarations,
    header,
    quote,
    render,
    section,
    set_list,
    underscored,
    upper_id,
)
from action_lib.cmakegen.dialects import THEROCK
from action_lib.topology import queries
from action_lib.topology.model import Topology

P = THEROCK.prefix


def metadata_lines(topology: Topology) -> list[str]:
    """The metadata section: artifacts, their groups, types, split databases, group members."""
    artifacts = sorted(topology.artifacts.values(), key=lambda a: a.name)
    lines = section("Topology metadata")
    lines += [
        "# Every artifact defined in the topology",
        *set_list(f"{P}_TOPOLOGY_ARTIFACTS", (a.name for a in artifacts)),
    ]
    lines.append("# Artifact -> its artifact group")
    lines += [
        f"set({P}_ARTIFACT_GROUP_{underscored(a.name)} {quote(a.artifact_group)})"
        for a in artifacts
    ]
    lines += ["", "# Artifact -> its type (and split databases, for kpack splitting)"]
    for a in artifacts:
        lines.append(f"set({P}_ARTIFACT_TYPE_{a.name} {quote(a.type)})")
        if a.split_databases:
            lines.append(
                f"set({P}_ARTIFACT_SPLIT_DATABASES_{a.name} {quote(';'.join(a.split_databases))})"
            )
    lines += ["", "# Artifact group -> its artifacts"]
    members = topology.group_to_artifacts
    for group in sorted(topology.artifact_groups):
        lines += set_list(
            f"{P}_GROUP_ARTIFACTS_{underscored(group)}", sorted(members.get(group, ()))
        )
    return lines


def feature_lines(topology: Topology) -> list[str]:
    """The feature declarations section, each feature after the features it requires."""
    lines = section("Feature declarations, each after the features it requires")
    return lines + feature_declarations(topology, THEROCK)


def artifact_target_lines(topology: Topology) -> list[str]:
    """The targets section's banner and one ``artifact-<name>`` target per artifact."""
    lines = section("Artifact, artifact group and build stage targets")
    for name in sorted(topology.artifacts):
        lines += [
            f"add_custom_target(artifact-{name}",
            f"  COMMENT {quote('Building artifact ' + name)}",
            ")",
        ]
    return [*lines, ""]


def group_target_lines(topology: Topology) -> list[str]:
    """One ``artifact-group-<group>`` target per group, depending on its artifacts."""
    lines: list[str] = []
    members = topology.group_to_artifacts
    for group in sorted(topology.artifact_groups):
        lines += [
            f"add_custom_target(artifact-group-{group}",
            f"  COMMENT {quote('Building artifact group ' + group)}",
        ]
        names = sorted(members.get(group, ()))
        if names:
            lines += ["  DEPENDS", *(f"    artifact-{n}" for n in names)]
        lines.append(")")
    return [*lines, ""]


def stage_target_lines(topology: Topology) -> list[str]:
    """One ``stage-<stage>`` target per stage, depending on its groups."""
    lines: list[str] = []
    for stage in sorted(topology.build_stages.values(), key=lambda s: s.name):
        lines += [
            f"# Build stage {stage.name} ({stage.type})",
            f"add_custom_target(stage-{stage.name}",
            f"  COMMENT {quote('Building stage ' + stage.name)}",
        ]
        groups = [g for g in dict.fromkeys(stage.artifact_groups) if g in topology.artifact_groups]
        if groups:
            lines += ["  DEPENDS", *(f"    artifact-group-{g}" for g in groups)]
        lines += [")", ""]
    return lines


def stage_variable_lines(topology: Topology) -> list[str]:
    """``<P>_STAGE_<STAGE>_ARTIFACTS`` (produced) and ``_DEPS`` (exact inbound) per stage."""
    analysis = queries.analyze(topology, queries.ANYWHERE)
    lines = section("Build stages: produced artifacts (_ARTIFACTS) and inbound artifacts (_DEPS)")
    for stage in sorted(topology.build_stages):
        lines += set_list(f"{P}_STAGE_{upper_id(stage)}_ARTIFACTS", analysis.produced[stage])
        lines += set_list(f"{P}_STAGE_{upper_id(stage)}_DEPS", analysis.inbound[stage])
    return lines


def build_order_lines(topology: Topology) -> list[str]:
    """The stages in build order, numbered in comments and as ``<P>_BUILD_ORDER``."""
    order = queries.build_order(topology)
    lines = section("Build order: every stage after the stages it fetches from")
    lines += [f"#   {n}. {stage}" for n, stage in enumerate(order, start=1)]
    lines.append("")
    return lines + set_list(f"{P}_BUILD_ORDER", order)


SECTIONS = (
    metadata_lines,
    feature_lines,
    artifact_target_lines,
    group_target_lines,
    stage_target_lines,
    stage_variable_lines,
    build_order_lines,
)


def generate(topology: Topology, source: str) -> str:
    """The whole therock-dialect include for ``topology``; ``source`` names it in the header."""
    lines = header(source, THEROCK)
    for part in SECTIONS:
        lines += part(topology)
    return render(lines)


def feature_part(topology: Topology) -> str:
    """Only the feature declarations section (TheRock's ``generate_feature_declarations``)."""
    return render(feature_lines(topology))
