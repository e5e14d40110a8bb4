"""Every validation rule: each finding is located (file and line) and says how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.errors import FindingsError
from action_lib.topology import load_topology
from action_lib.topology.loader import check_topology_text
from tests.topologies import MINIMAL


def findings_of(text: str) -> list[str]:
    return [f.format() for f in check_topology_text(text, "T.toml")[1]]


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_minimal_is_clean() -> None:
    assert findings_of(MINIMAL) == []


# (id, text transformation, expected code, fragment of message, line anchor in the new text)
CASES = [
    (
        "bad-entity-name",
        ("[artifacts.gamma]", "[artifacts.Gamma_X]\n"),
        "name",
        "'Gamma_X' is not lower-case",
        "[artifacts.Gamma_X]",
    ),
    (
        "bad-feature-name",
        ('artifact_deps = ["alpha"]', 'artifact_deps = ["alpha"]\nfeature_name = "beta-x"'),
        "name",
        "feature_name 'beta-x'",
        'feature_name = "beta-x"',
    ),
    (
        "bad-stage-type",
        (
            'type = "per-arch"\n\n[artifact_groups.base]',
            'type = "perarch"\n\n[artifact_groups.base]',
        ),
        "enum",
        "stage 'second' type 'perarch'",
        'type = "perarch"',
    ),
    (
        "bad-platform",
        ('disable_platforms = ["windows"]', 'disable_platforms = ["widnows"]'),
        "enum",
        "did you mean 'windows'",
        'disable_platforms = ["widnows"]',
    ),
    (
        "bad-processor",
        ('disable_platforms = ["windows"]', 'disable_processors = ["arm64"]'),
        "enum",
        "processor 'arm64'",
        'disable_processors = ["arm64"]',
    ),
    (
        "unknown-artifact-dep",
        ('artifact_deps = ["beta"]', 'artifact_deps = ["betta"]'),
        "unknown-ref",
        "did you mean 'beta'",
        'artifact_deps = ["betta"]',
    ),
    (
        "unknown-group",
        ('artifact_group = "libs"', 'artifact_group = "lib"'),
        "unknown-ref",
        "unknown artifact group 'lib'",
        'artifact_group = "lib"',
    ),
    (
        "unknown-source-set",
        ('source_sets = ["math"]', 'source_sets = ["maths"]'),
        "unknown-ref",
        "did you mean 'math'",
        'source_sets = ["maths"]',
    ),
    (
        "unknown-stage-group",
        ('artifact_groups = ["libs"]', 'artifact_groups = ["libs", "extra"]'),
        "unknown-ref",
        "unknown artifact group 'extra'",
        'artifact_groups = ["libs", "extra"]',
    ),
    (
        "unknown-key",
        ('artifact_deps = ["alpha"]', 'artifact_dep = ["alpha"]'),
        "unknown-key",
        "did you mean 'artifact_deps'",
        'artifact_dep = ["alpha"]',
    ),
    (
        "unknown-table",
        ("[metadata]", "[metadata]\n[build_stage.x]\n[metadata2]"),
        "unknown-table",
        "did you mean 'build_stages'",
        "[build_stage.x]",
    ),
    (
        "wrong-type",
        ('artifact_deps = ["alpha"]', 'artifact_deps = "alpha"'),
        "type",
        "must be a list of strings",
        'artifact_deps = "alpha"',
    ),
    (
        "artifact-cycle",
        ("[artifacts.alpha]\n", '[artifacts.alpha]\nartifact_deps = ["beta"]\n'),
        "cycle",
        "alpha -> beta -> alpha",
        'artifact_deps = ["beta"]',
    ),
    (
        "group-cycle",
        ("[artifact_groups.base]\n", '[artifact_groups.base]\nartifact_group_deps = ["libs"]\n'),
        "cycle",
        "base -> libs -> base",
        'artifact_group_deps = ["libs"]',
    ),
    (
        "submodule-twice",
        ('submodules = ["math-src"]', 'submodules = ["math-src", "core-src"]'),
        "ownership",
        "submodule 'core-src' is owned by source sets 'core' and 'math'",
        'submodules = ["math-src", "core-src"]',
    ),
    (
        "prefix-nested",
        ('submodules = ["core-src"]', 'submodules = ["core-src"]\npath_prefixes = ["math/sub"]'),
        "ownership",
        "lies inside 'math'",
        "[source_sets.core]",
    ),
    (
        "absolute-external",
        (
            'submodules = ["core-src"]',
            'external_git_sources = [{ name = "x", origin = "file:///x", commit = "abc", path = "/abs/x" }]',
        ),
        "path",
        "is absolute",
        "external_git_sources",
    ),
    (
        "external-missing-commit",
        (
            'submodules = ["core-src"]',
            'external_git_sources = [{ name = "x", origin = "file:///x" }]',
        ),
        "missing-key",
        "lacks commit",
        "external_git_sources",
    ),
    (
        "group-in-two-stages",
        ('artifact_groups = ["libs"]', 'artifact_groups = ["libs", "base"]'),
        "membership",
        "artifact group 'base' is in stages",
        'artifact_groups = ["libs", "base"]',
    ),
    (
        "artifact-in-no-stage",
        ('artifact_groups = ["base"]', "artifact_groups = []"),
        "membership",
        "artifact 'alpha' is built in no stage",
        "[artifacts.alpha]",
    ),
    (
        "duplicate-feature",
        ('artifact_deps = ["alpha"]', 'artifact_deps = ["alpha"]\nfeature_name = "ALPHA"'),
        "feature",
        "share feature name 'ALPHA'",
        "[artifacts.beta]",
    ),
    (
        "generic-needs-per-arch",
        (
            '[artifacts.beta]\nartifact_group = "base"\ntype = "target-neutral"\nartifact_deps = ["alpha"]',
            '[artifacts.beta]\nartifact_group = "base"\ntype = "target-neutral"\nartifact_deps = ["alpha", "delta"]\n[artifacts.delta]\nartifact_group = "libs"',
        ),
        "stage-cycle",
        "first needs delta from second",
        "[build_stages.first]",
    ),
    (
        "stage-type-mismatch",
        ('type = "per-arch"\nartifact_group_deps', 'type = "generic"\nartifact_group_deps'),
        "stage-type",
        "generic group 'libs' is in per-arch stage",
        'artifact_groups = ["libs"]',
    ),
    (
        "missing-artifact-group",
        ('[artifacts.alpha]\nartifact_group = "base"', "[artifacts.alpha]"),
        "missing-key",
        "has no artifact_group",
        "[artifacts.alpha]",
    ),
    (
        "bad-version",
        ('version = "2.0"', 'version = "3.1"'),
        "version",
        "schema version '3.1'",
        'version = "3.1"',
    ),
    (
        "bad-flag-platform",
        (
            'disable_platforms = ["windows"]',
            'disable_platforms_if_flags_not_set = { macos = "FOO" }',
        ),
        "enum",
        "platform 'macos'",
        "disable_platforms_if_flags_not_set",
    ),
]


@pytest.mark.parametrize(
    ("old_new", "code", "fragment", "anchor"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_is_reported_with_location(
    old_new: tuple[str, str], code: str, fragment: str, anchor: str
) -> None:
    old, new = old_new
    assert old in MINIMAL, old
    text = MINIMAL.replace(old, new, 1)
    found = findings_of(text)
    matching = [f for f in found if f"error[{code}]" in f and fragment in f]
    assert matching, found
    assert matching[0].startswith(f"T.toml:{line_of(text, anchor)}: "), matching


def test_generic_stage_needing_per_arch_artifact() -> None:
    text = (
        MINIMAL
        + '\n[build_stages.third]\nartifact_groups = ["late"]\n[artifact_groups.late]\n[artifacts.omega]\nartifact_group = "late"\nartifact_deps = ["gamma"]\n'
    )
    found = findings_of(text)
    assert any(
        "per-arch-dep" in f and "needs 'gamma' from per-arch stage 'second'" in f for f in found
    ), found


def test_all_findings_are_listed_not_just_the_first() -> None:
    text = MINIMAL.replace('artifact_deps = ["beta"]', 'artifact_deps = ["betta"]').replace(
        'artifact_deps = ["alpha"]', 'artifact_dep = ["alpha"]'
    )
    assert len(findings_of(text)) == 2


def test_malformed_toml_is_one_located_line() -> None:
    found = findings_of(MINIMAL.replace('type = "target-specific"', 'type = "target-specific'))
    assert len(found) == 1
    line = line_of(MINIMAL, 'type = "target-specific"')
    assert found[0].startswith(f"T.toml:{line}: error[toml]")


@pytest.mark.parametrize(
    ("content", "status", "fragment"),
    [
        (MINIMAL, 0, ""),
        (
            MINIMAL.replace('artifact_deps = ["beta"]', 'artifact_deps = ["betta"]'),
            2,
            "did you mean 'beta'",
        ),
        ("[metadata\n", 2, "malformed TOML"),
        (b"\xff\xfe".decode("latin-1"), 2, ""),
    ],
    ids=["clean", "invalid", "malformed", "garbage"],
)
def test_cli_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, status: int, fragment: str
) -> None:
    path = tmp_path / "T.toml"
    path.write_text(content, encoding="utf-8")
    assert main(["topology", "validate", "--topology", str(path)]) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert fragment in err


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topology", "validate", "--topology", str(tmp_path / "nope.toml")]) == 2
    assert "topology file not found" in capsys.readouterr().err


def test_cli_annotates_in_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    path = tmp_path / "T.toml"
    text = MINIMAL.replace('artifact_deps = ["beta"]', 'artifact_deps = ["betta"]')
    path.write_text(text, encoding="utf-8")
    assert main(["topology", "validate", "--topology", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"::error file={path},title=unknown-ref,line={line_of(text, 'betta')}::" in out


def test_load_topology_raises_all_findings(tmp_path: Path) -> None:
    path = tmp_path / "T.toml"
    path.write_text(
        MINIMAL.replace('artifact_deps = ["beta"]', 'artifact_deps = ["x", "y"]'), encoding="utf-8"
    )
    with pytest.raises(FindingsError) as info:
        load_topology(path)
    assert len(info.value.findings) == 2
