"""The TheRock compatibility layer: TheRock's build_tools names, backed by rockshard's engine.

``from action_lib.therock import BuildTopology`` is the drop-in for TheRock's
``from _therock_utils.build_topology import BuildTopology``.
"""

from action_lib.therock.build_topology import (
    Artifact,
    ArtifactGroup,
    BuildStage,
    BuildTopology,
    ExternalGitSource,
    SourceSet,
    Submodule,
    generate_feature_declarations,
    get_stage_features,
    get_topology,
)
from action_lib.therock.inbound import compare_inbound, therock_inbound

__all__ = [
    "Artifact",
    "ArtifactGroup",
    "BuildStage",
    "BuildTopology",
    "ExternalGitSource",
    "SourceSet",
    "Submodule",
    "compare_inbound",
    "generate_feature_declarations",
    "get_stage_features",
    "get_topology",
    "therock_inbound",
]
