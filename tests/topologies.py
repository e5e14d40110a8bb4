"""Small topologies written for tests, as TOML text."""

from __future__ import annotations

MINIMAL = """\
[metadata]
version = "2.0"
description = "test"

[source_sets.core]
description = "core sources"
submodules = ["core-src"]

[source_sets.math]
submodules = ["math-src"]
path_prefixes = ["math"]

[build_stages.first]
artifact_groups = ["base"]

[build_stages.second]
artifact_groups = ["libs"]
type = "per-arch"

[artifact_groups.base]
type = "generic"
source_sets = ["core"]

[artifact_groups.libs]
type = "per-arch"
artifact_group_deps = ["base"]
source_sets = ["math"]

[artifacts.alpha]
artifact_group = "base"
type = "target-neutral"

[artifacts.beta]
artifact_group = "base"
type = "target-neutral"
artifact_deps = ["alpha"]

[artifacts.gamma]
artifact_group = "libs"
type = "target-specific"
artifact_deps = ["beta"]
disable_platforms = ["windows"]
"""
