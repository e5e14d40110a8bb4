"""The TheRock compatibility layer: TheRock's build_tools names, backed by rockshard's engine.

- ``from action_lib.therock import BuildTopology`` (or ``action_lib.therock.build_topology``) is
  the drop-in for TheRock's ``from _therock_utils.build_topology import BuildTopology``;
- :mod:`action_lib.therock.topology_to_cmake` for ``build_tools/topology_to_cmake.py``;
- :mod:`action_lib.therock.configure_stage` for ``build_tools/configure_stage.py``.

docs/therock.md says how TheRock switches, and where rockshard deliberately differs.
"""

from action_lib.therock.build_topology import BuildTopology, get_topology
from action_lib.therock.configure_stage import (
    generate_cmake_args,
    get_project_features,
    get_stage_features,
)
from action_lib.therock.inbound import compare_inbound, therock_inbound
from action_lib.therock.model import (
    Artifact,
    ArtifactGroup,
    BuildStage,
    ExternalGitSource,
    SourceSet,
    Submodule,
)
from action_lib.therock.topology_to_cmake import generate_feature_declarations

__all__ = [
    "Artifact",
    "ArtifactGroup",
    "BuildStage",
    "BuildTopology",
    "ExternalGitSource",
    "SourceSet",
    "Submodule",
    "compare_inbound",
    "generate_cmake_args",
    "generate_feature_declarations",
    "get_project_features",
    "get_stage_features",
    "get_topology",
    "therock_inbound",
]
