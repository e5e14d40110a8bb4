"""``BuildTopology.validate_topology()`` says what TheRock says; the checks TheRock has that
rockshard lacked are in ``rockshard topology validate`` too; ``get_build_order`` follows
``artifact_group_deps``. Small topologies written here, one problem each."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from action_lib import therock
from action_lib.cli.main import main
from action_lib.topology.loader import check_topology_text
from tests.topologies import MINIMAL


def load(tmp_path: Path, text: str) -> therock.BuildTopology:
    path = tmp_path / "BUILD_TOPOLOGY.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return therock.BuildTopology(path)


def errors_of(tmp_path: Path, text: str) -> list[str]:
    return load(tmp_path, text).validate_topology()


STAGES = "{'generic', 'per-arch'}"
PLATFORMS = "{'linux', 'windows'}"
PROCESSORS = "{'aarch64', 'ppc64le', 'x86_64'}"

# (id, TOML, the exact message TheRock's validate_topology() gives)
WORDING = [
    (
        "circular-groups",
        """
        [artifact_groups.group1]
        artifact_group_deps = ["group2"]
        [artifact_groups.group2]
        artifact_group_deps = ["group3"]
        [artifact_groups.group3]
        artifact_group_deps = ["group1"]
        """,
        "Circular dependency detected involving artifact group 'group1'",
    ),
    (
        "circular-artifacts",
        """
        [artifacts.a]
        artifact_group = "g"
        artifact_deps = ["b"]
        [artifacts.b]
        artifact_group = "g"
        artifact_deps = ["a"]
        [artifact_groups.g]
        """,
        "Circular dependency detected involving artifact 'a'",
    ),
    (
        "submodule-twice",
        """
        [source_sets.set1]
        submodules = ["shared-submodule"]
        [source_sets.set2]
        submodules = ["shared-submodule"]
        """,
        "Submodule 'shared-submodule' is used by both source sets 'set1' and 'set2'",
    ),
    (
        "external-path-twice",
        """
        [source_sets.one]
        external_git_sources = [{ name = "hrx", origin = "o", commit = "c", path = "optional-sources/hrx" }]
        [source_sets.two]
        external_git_sources = [{ name = "hrx", origin = "o", commit = "c", path = "optional-sources/hrx" }]
        """,
        "External git source path 'optional-sources/hrx' is used by both source sets 'one' and 'two'",
    ),
    (
        "path-prefix-twice",
        """
        [source_sets.one]
        path_prefixes = ["math/"]
        [source_sets.two]
        path_prefixes = ["math"]
        """,
        "Path prefix 'math' is used by both source sets 'one' and 'two'",
    ),
    (
        "external-outside-optional-sources",
        """
        [source_sets.optional-hrx]
        external_git_sources = [{ name = "hrx", origin = "https://github.com/ROCm/hrx.git", commit = "e642a134", path = "rocm-systems/hrx" }]
        """,
        "External git source 'hrx' path 'rocm-systems/hrx' must be under optional-sources/",
    ),
    (
        "external-absolute",
        """
        [source_sets.x]
        external_git_sources = [{ name = "hrx", origin = "o", commit = "c", path = "/abs/hrx" }]
        """,
        "External git source 'hrx' path '/abs/hrx' must be relative",
    ),
    (
        "external-bad-name",
        """
        [source_sets.x]
        external_git_sources = [{ name = "HRX", origin = "o", commit = "c", path = "optional-sources/HRX" }]
        """,
        "External git source 'HRX' should be lowercase-with-hyphens",
    ),
    (
        "prefix-dotdot",
        """
        [source_sets.x]
        path_prefixes = ["../outside"]
        """,
        "Source set 'x' path_prefix '../outside' must not contain '..'",
    ),
    (
        "prefix-absolute",
        """
        [source_sets.x]
        path_prefixes = ["/abs"]
        """,
        "Source set 'x' path_prefix '/abs' must be relative",
    ),
    (
        "prefix-empty",
        """
        [source_sets.x]
        path_prefixes = [""]
        """,
        "Source set 'x' has an empty path_prefix",
    ),
    (
        "bad-processor",
        """
        [artifacts.profiler]
        artifact_group = "profiler"
        disable_processors = ["invalid_arch"]
        """,
        f"Artifact 'profiler' has invalid disable_processor 'invalid_arch' (expected: {PROCESSORS})",
    ),
    (
        "bad-disable-platform",
        """
        [artifacts.a]
        artifact_group = "g"
        disable_platforms = ["macos"]
        """,
        f"Artifact 'a' has invalid disable_platform 'macos' (expected: {PLATFORMS})",
    ),
    (
        "bad-conditional-platform",
        """
        [artifacts.a]
        artifact_group = "g"
        disable_platforms_if_flags_not_set = { macos = "FOO" }
        """,
        f"Artifact 'a' has invalid conditional disable_platform 'macos' (expected: {PLATFORMS})",
    ),
    (
        "bad-flag",
        """
        [artifacts.a]
        artifact_group = "g"
        disable_platforms_if_flags_not_set = { windows = "foo-bar" }
        """,
        "Artifact 'a' disable_platforms_if_flags_not_set entry for 'windows' should be"
        " UPPERCASE_WITH_UNDERSCORES",
    ),
    (
        "bad-platform",
        """
        [artifacts.a]
        artifact_group = "g"
        platform = "macos"
        """,
        f"Artifact 'a' has invalid platform 'macos' (expected: {PLATFORMS})",
    ),
    (
        "bad-stage-type",
        """
        [build_stages.s]
        artifact_groups = []
        type = "perarch"
        """,
        f"Build stage 's' has invalid type 'perarch' (expected: {STAGES})",
    ),
    (
        "bad-group-type",
        """
        [artifact_groups.g]
        type = "all"
        """,
        f"Artifact group 'g' has invalid type 'all' (expected: {STAGES})",
    ),
    (
        "bad-artifact-type",
        """
        [artifacts.a]
        artifact_group = "g"
        type = "neutral"
        """,
        "Artifact 'a' has invalid type 'neutral' (expected: {'target-neutral', 'target-specific'})",
    ),
    (
        "bad-names",
        """
        [build_stages.Stage_1]
        artifact_groups = []
        """,
        "Build stage 'Stage_1' should be lowercase-with-hyphens",
    ),
    (
        "bad-feature-name",
        """
        [artifacts.a]
        artifact_group = "g"
        feature_name = "lower"
        """,
        "Artifact 'a' feature_name 'lower' should be UPPERCASE_WITH_UNDERSCORES",
    ),
    (
        "bad-source-set-platform",
        """
        [source_sets.x]
        disable_platforms = ["macos"]
        """,
        f"Source set 'x' has invalid disable_platform 'macos' (expected: {PLATFORMS})",
    ),
    (
        "stage-unknown-group",
        """
        [build_stages.stage1]
        artifact_groups = ["missing_group"]
        """,
        "Stage 'stage1' references unknown artifact group 'missing_group'",
    ),
    (
        "group-unknown-dep",
        """
        [artifact_groups.group1]
        artifact_group_deps = ["missing_dep"]
        """,
        "Artifact group 'group1' depends on unknown group 'missing_dep'",
    ),
    (
        "group-unknown-source-set",
        """
        [artifact_groups.group1]
        source_sets = ["nowhere"]
        """,
        "Artifact group 'group1' references unknown source set 'nowhere'",
    ),
    (
        "artifact-unknown-group",
        """
        [artifacts.artifact1]
        artifact_group = "missing_artifact_group"
        """,
        "Artifact 'artifact1' references unknown group 'missing_artifact_group'",
    ),
    (
        "artifact-unknown-dep",
        """
        [artifact_groups.g]
        [artifacts.artifact1]
        artifact_group = "g"
        artifact_deps = ["missing_artifact"]
        """,
        "Artifact 'artifact1' depends on unknown artifact 'missing_artifact'",
    ),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in WORDING], ids=[c[0] for c in WORDING])
def test_validate_topology_says_it_as_therock(tmp_path: Path, text: str, message: str) -> None:
    errors = errors_of(tmp_path, text)
    assert message in errors, errors


def test_clean_topology_has_no_errors(tmp_path: Path) -> None:
    assert errors_of(tmp_path, MINIMAL) == []


def test_rockshard_only_findings_follow_located(tmp_path: Path) -> None:
    text = MINIMAL.replace('artifact_groups = ["libs"]', 'artifact_groups = ["libs", "base"]')
    errors = errors_of(tmp_path, text)
    membership = [e for e in errors if "error[membership]" in e]
    assert membership and membership[0].startswith(str(tmp_path / "BUILD_TOPOLOGY.toml") + ":")
    # worded categories are not repeated in rockshard's words
    text = MINIMAL.replace('artifact_deps = ["alpha"]', 'artifact_deps = ["alpah"]')
    errors = errors_of(tmp_path, text)
    assert errors == ["Artifact 'beta' depends on unknown artifact 'alpah'"]


def test_rockshard_extensions_are_worded_alike(tmp_path: Path) -> None:
    nested = MINIMAL.replace('path_prefixes = ["math"]', 'path_prefixes = ["math"]') + (
        '\n[source_sets.extra]\npath_prefixes = ["math/sub", "math-x"]\n'
    )
    errors = errors_of(tmp_path, nested)
    assert errors == [
        "Path 'math/sub' of source set 'extra' lies inside path 'math' of source set 'math'"
    ]
    tests = MINIMAL.replace(
        'artifact_deps = ["alpha"]', 'artifact_deps = ["alpha"]\ntest_artifacts = ["nope"]'
    )
    assert errors_of(tmp_path, tests) == ["Artifact 'beta' has unknown test artifact 'nope'"]


def test_load_refuses_what_therock_refuses(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Artifact 'a' python_requires must be a list, got str"):
        load(tmp_path, '[artifacts.a]\nartifact_group = "g"\npython_requires = "numpy"\n')
    with pytest.raises(
        ValueError, match=r"disable_platforms_if_flags_not_set must be a table, got list"
    ):
        load(
            tmp_path,
            '[artifacts.a]\nartifact_group = "g"\ndisable_platforms_if_flags_not_set = ["x"]\n',
        )


# --- the checks TheRock had and rockshard lacked, now in `rockshard topology validate` --------------

NEW_RULES = [
    (
        "external-outside-optional-sources",
        'path_prefixes = ["math"]',
        'path_prefixes = ["math"]\nexternal_git_sources = [{ name = "hrx", origin = "o", commit = "c", path = "rocm-systems/hrx" }]',
        "path",
        "is not under optional-sources/ (external sources are cloned under optional-sources/;"
        " use optional-sources/hrx)",
    ),
    (
        "external-name",
        'path_prefixes = ["math"]',
        'path_prefixes = ["math"]\nexternal_git_sources = [{ name = "Hrx", origin = "o", commit = "c", path = "optional-sources/hrx" }]',
        "name",
        "external source name 'Hrx' is not lower-case-with-hyphens (rename it to 'hrx')",
    ),
    (
        "prefix-absolute",
        'path_prefixes = ["math"]',
        'path_prefixes = ["/math"]',
        "path",
        "source set 'math' path prefix '/math' is absolute",
    ),
    (
        "prefix-dotdot",
        'path_prefixes = ["math"]',
        'path_prefixes = ["../math"]',
        "path",
        "source set 'math' path prefix '../math' leaves the repository",
    ),
    (
        "prefix-empty",
        'path_prefixes = ["math"]',
        'path_prefixes = [""]',
        "path",
        "source set 'math' has an empty path prefix",
    ),
    (
        "prefix-nested-after-sibling",
        'path_prefixes = ["math"]',
        'path_prefixes = ["math"]\n[source_sets.more]\npath_prefixes = ["math-x", "math/sub"]',
        "ownership",
        "path 'math/sub' of source set 'more' lies inside 'math' of source set 'math'",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "code", "fragment"), [c[1:] for c in NEW_RULES], ids=[c[0] for c in NEW_RULES]
)
def test_rockshard_validate_has_therocks_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, code: str, fragment: str
) -> None:
    text = MINIMAL.replace(old, new, 1)
    findings = [f.format() for f in check_topology_text(text, "T.toml")[1]]
    matching = [f for f in findings if f"error[{code}]" in f and fragment in f]
    assert matching, findings
    assert matching[0].startswith("T.toml:") and not matching[0].startswith("T.toml: ")
    path = tmp_path / "T.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["topology", "validate", "--topology", str(path)]) == 2
    assert fragment in capsys.readouterr().err


# --- get_build_order ----------------------------------------------------------------------------------


def test_build_order_follows_group_deps_without_artifact_deps(tmp_path: Path) -> None:
    topology = load(
        tmp_path,
        """
        [build_stages.a-runtime]
        artifact_groups = ["hip"]
        [build_stages.b-compiler]
        artifact_groups = ["llvm"]
        [build_stages.c-foundation]
        artifact_groups = ["base"]
        [artifact_groups.base]
        [artifact_groups.llvm]
        artifact_group_deps = ["base"]
        [artifact_groups.hip]
        artifact_group_deps = ["llvm"]
        [artifacts.hip-artifact]
        artifact_group = "hip"
        [artifacts.llvm-artifact]
        artifact_group = "llvm"
        [artifacts.base-artifact]
        artifact_group = "base"
        """,
    )
    # Name order would be a-runtime, b-compiler, c-foundation.
    assert topology.get_build_order() == ["c-foundation", "b-compiler", "a-runtime"]


def test_build_order_of_groups_without_artifacts(tmp_path: Path) -> None:
    topology = load(
        tmp_path,
        """
        [build_stages.foundation]
        artifact_groups = ["base"]
        [build_stages.compiler]
        artifact_groups = ["llvm"]
        [build_stages.runtime]
        artifact_groups = ["hip"]
        [artifact_groups.base]
        [artifact_groups.llvm]
        artifact_group_deps = ["base"]
        [artifact_groups.hip]
        artifact_group_deps = ["llvm"]
        """,
    )
    assert topology.get_build_order() == ["foundation", "compiler", "runtime"]


def test_build_order_with_a_group_cycle_is_a_value_error(tmp_path: Path) -> None:
    topology = load(
        tmp_path,
        """
        [build_stages.one]
        artifact_groups = ["a"]
        [build_stages.two]
        artifact_groups = ["b"]
        [artifact_groups.a]
        artifact_group_deps = ["b"]
        [artifact_groups.b]
        artifact_group_deps = ["a"]
        """,
    )
    with pytest.raises(ValueError, match="stage dependency cycle"):
        topology.get_build_order()
