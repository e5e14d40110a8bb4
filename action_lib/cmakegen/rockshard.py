"""The ``rockshard`` dialect: the include of a super-build built on rockshard's CMake modules.

It declares, for the modules in ``cmake/rockshard_*.cmake`` of a super-build:

- the topology as variables: ``ROCKSHARD_TOPOLOGY_ARTIFACTS``, per artifact
  ``ROCKSHARD_ARTIFACT_<name>_{FEATURE,TYPE,GROUP,STAGE,DEPS}``, ``ROCKSHARD_STAGES`` in build
  order and per stage ``ROCKSHARD_STAGE_<name>_{TYPE,ARTIFACTS,INBOUND}``;
- the options: ``ROCKSHARD_ENABLE_ALL``, one ``ROCKSHARD_ENABLE_<GROUP>`` per feature group
  (default: ``ROCKSHARD_ENABLE_ALL``) and the ``ROCKSHARD_FLAG_<FLAG>`` flags the topology uses;
- one ``rockshard_add_feature()`` per artifact, dependencies first, whose option
  ``ROCKSHARD_ENABLE_<FEATURE>`` defaults to its group's; ``rockshard_finalize_features()``
  (``cmake/rockshard_features.cmake``) then applies platform and processor disables, switches
  requirements on and prints the report, and ``rockshard_finalize_artifacts()`` makes the
  ``stage-<name>`` targets from the stage variables.
"""

from __future__ import annotations

from action_lib.cmakegen.common import (
    feature_declarations,
    header,
    quote,
    render,
    section,
    set_list,
)
from action_lib.cmakegen.dialects import ROCKSHARD
from action_lib.errors import InputError
from action_lib.topology import queries
from action_lib.topology.model import Topology

P = ROCKSHARD.prefix


def _feature_groups(topology: Topology) -> list[str]:
    return sorted({a.feature_group for a in topology.artifacts.values()})


def _check_names(topology: Topology) -> None:
    """A feature group named like a feature would make both share one option."""
    features = {a.feature_name: a.name for a in topology.artifacts.values()}
    for group in _feature_groups(topology):
        if group in features or group == "ALL":
            other = f"artifact '{features[group]}'" if group in features else "ROCKSHARD_ENABLE_ALL"
            raise InputError(
                f"{topology.path}: feature group {group} and {other} would share the option"
                f" {P}_ENABLE_{group}; rename one of them (feature_group or feature_name)"
            )


def _metadata(topology: Topology) -> list[str]:
    artifacts = sorted(topology.artifacts.values(), key=lambda a: a.name)
    stage_of = topology.artifact_to_stage
    lines = section("Topology: artifacts")
    lines += set_list(f"{P}_TOPOLOGY_ARTIFACTS", (a.name for a in artifacts))
    for a in artifacts:
        lines += [
            f"set({P}_ARTIFACT_{a.name}_FEATURE {a.feature_name})",
            f"set({P}_ARTIFACT_{a.name}_TYPE {a.type})",
            f"set({P}_ARTIFACT_{a.name}_GROUP {quote(a.artifact_group)})",
            f"set({P}_ARTIFACT_{a.name}_STAGE {quote(stage_of.get(a.name, ''))})",
            f"set({P}_ARTIFACT_{a.name}_DEPS"
            + "".join(f" {d}" for d in a.artifact_deps if d in topology.artifacts)
            + ")",
        ]
    lines.append("")
    return lines


def _stages(topology: Topology) -> list[str]:
    analysis = queries.analyze(topology, queries.ANYWHERE)
    order = queries.build_order(topology)
    lines = section("Topology: build stages, every stage after the stages it fetches from")
    lines += set_list(f"{P}_STAGES", order)
    for stage in order:
        lines += [
            f"set({P}_STAGE_{stage}_TYPE {topology.build_stages[stage].type})",
            f"set({P}_STAGE_{stage}_ARTIFACTS"
            + "".join(f" {a}" for a in analysis.produced[stage])
            + ")",
            f"set({P}_STAGE_{stage}_INBOUND"
            + "".join(f" {a}" for a in analysis.inbound[stage])
            + ")",
        ]
    lines.append("")
    return lines


def _options(topology: Topology) -> list[str]:
    lines = section(f"Options: {P}_ENABLE_ALL > {P}_ENABLE_<GROUP> > {P}_ENABLE_<FEATURE>")
    lines.append(f'option({P}_ENABLE_ALL "Enables every artifact by default" ON)')
    for group in _feature_groups(topology):
        lines.append(
            f"option({P}_ENABLE_{group}"
            f' "Default of the artifacts of feature group {group}" "${{{P}_ENABLE_ALL}}")'
        )
    flags = sorted(
        {
            flag
            for a in topology.artifacts.values()
            for _, flag in a.disable_platforms_if_flags_not_set
        }
    )
    for flag in flags:
        lines.append(f'option({P}_FLAG_{flag} "Enables flag {flag}" OFF)')
    lines.append("")
    return lines


def generate(topology: Topology, source: str) -> str:
    """The whole rockshard-dialect include for ``topology``; ``source`` names it in the header.

    Raises InputError when a feature group and a feature would share an option name.
    """
    _check_names(topology)
    lines = header(source, ROCKSHARD)
    lines += [f"set({P}_TOPOLOGY_SOURCE {quote(source)})", ""]
    lines += _metadata(topology)
    lines += _stages(topology)
    lines += _options(topology)
    lines += section("Features, each after the features it requires")
    lines += feature_declarations(topology, ROCKSHARD)
    return render(lines)
