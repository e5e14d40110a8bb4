"""The topology engine: model, loading, validation and queries of BUILD_TOPOLOGY.toml."""

from action_lib.topology.loader import check_topology_text, load_topology, parse_topology
from action_lib.topology.model import (
    Artifact,
    ArtifactGroup,
    BuildStage,
    Conditions,
    ExternalGitSource,
    SourceSet,
    Topology,
)
from action_lib.topology.validate import validate_topology

__all__ = [
    "Artifact",
    "ArtifactGroup",
    "BuildStage",
    "Conditions",
    "ExternalGitSource",
    "SourceSet",
    "Topology",
    "check_topology_text",
    "load_topology",
    "parse_topology",
    "validate_topology",
]
