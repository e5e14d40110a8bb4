"""Does every stage check out the sources of what it builds? Pure.

The input is where each artifact's subprojects live (``artifact -> folders``): the folders
of the artifact descriptors, or a map the super-build writes. A folder inside a source set
the stage does not list is a finding; a folder no source set owns is common to every
checkout and always present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from action_lib.errors import Finding
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.sources.layout import norm_path, owned_paths, owner_of
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology

Verdict = Literal["inside", "common", "outside"]
INSIDE: Verdict = "inside"
COMMON: Verdict = "common"
OUTSIDE: Verdict = "outside"


@dataclass(frozen=True)
class Placement:
    """Where one subproject folder of a stage's artifact lies relative to its source sets."""

    stage: str
    artifact: str
    folder: str
    verdict: Verdict
    source_set: str  # the source set owning the folder ("" when common)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stable keys)."""
        return {
            "stage": self.stage,
            "artifact": self.artifact,
            "folder": self.folder,
            "verdict": self.verdict,
            "source_set": self.source_set,
        }


def check_placements(
    topology: Topology,
    locations: Mapping[str, Sequence[str]],
    submodules: Sequence[GitSubmodule] = (),
    platform: str | None = None,
) -> list[Placement]:
    """For every stage and artifact it produces on ``platform``: each folder's verdict."""
    owned = owned_paths(topology, submodules)
    conditions = Conditions(platform=platform)
    out: list[Placement] = []
    for stage in sorted(topology.build_stages):
        mine = set(queries.stage_source_sets(topology, stage, platform))
        for artifact in queries.produced_artifacts(topology, stage, conditions):
            for folder in sorted({norm_path(f) for f in locations.get(artifact, ())}):
                owner = owner_of(folder, owned)
                if owner is None:
                    out.append(Placement(stage, artifact, folder, COMMON, ""))
                elif owner.source_set in mine:
                    out.append(Placement(stage, artifact, folder, INSIDE, owner.source_set))
                else:
                    out.append(Placement(stage, artifact, folder, OUTSIDE, owner.source_set))
    return out


def placement_findings(topology: Topology, placements: Sequence[Placement]) -> list[Finding]:
    """A located finding per subproject folder outside its stage's source sets."""
    findings: list[Finding] = []
    for p in placements:
        if p.verdict != OUTSIDE:
            continue
        group = topology.artifacts[p.artifact].artifact_group
        line = topology.line("artifact_groups", group, "source_sets") or topology.line(
            "artifact_groups", group
        )
        findings.append(
            Finding(
                topology.path,
                line,
                "sources",
                f"stage '{p.stage}' builds '{p.artifact}' from {p.folder}, which lies in "
                f"source set '{p.source_set}' that the stage does not check out",
                f"add '{p.source_set}' to the source_sets of artifact group '{group}'",
            )
        )
    return findings
