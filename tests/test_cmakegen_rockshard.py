"""The ``rockshard`` CMake dialect: the checked-in include of the super-build, and its content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.cmakegen import generate
from action_lib.errors import InputError
from action_lib.topology import load_topology, parse_topology, queries
from action_lib.topology.model import Topology

INCLUDE = "cmake/rockshard_topology.cmake"


@pytest.fixture(scope="module")
def own(repo_root: Path) -> Topology:
    """The repository's own topology."""
    topology: Topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    return topology


@pytest.fixture(scope="module")
def text(own: Topology) -> str:
    """The rockshard-dialect include of the repository's topology."""
    return generate(own, "rockshard", source="BUILD_TOPOLOGY.toml")


def test_checked_in_include_is_current(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo_root)
    argv = ["cmake", "--topology", "BUILD_TOPOLOGY.toml", "--dialect", "rockshard"]
    status = main([*argv, "--output", INCLUDE, "--check"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out == f"{INCLUDE}: up to date\n"


def test_check_reports_a_stale_include(
    repo_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stale = tmp_path / "stale.cmake"
    current = (repo_root / INCLUDE).read_text(encoding="utf-8")
    stale.write_text(current.replace("REQUIRES BLAS RAND", "REQUIRES BLAS"), encoding="utf-8")
    monkeypatch.chdir(repo_root)
    argv = ["cmake", "--topology", "BUILD_TOPOLOGY.toml", "--dialect", "rockshard"]
    assert main([*argv, "--output", str(stale), "--check"]) == 1
    assert "+  REQUIRES BLAS RAND" in capsys.readouterr().out


def test_one_option_per_artifact_defaulting_to_its_group(own: Topology, text: str) -> None:
    for artifact in own.artifacts.values():
        block = re.search(
            rf"^rockshard_add_feature\({artifact.feature_name}\n(.*?)^\)$", text, re.M | re.S
        )
        assert block is not None, artifact.name
        assert f"  GROUP {artifact.feature_group}\n" in block.group(1)
    for group in {a.feature_group for a in own.artifacts.values()}:
        assert (
            f'option(ROCKSHARD_ENABLE_{group} "Default of the artifacts of feature group {group}"'
            ' "${ROCKSHARD_ENABLE_ALL}")' in text
        )
    assert 'option(ROCKSHARD_ENABLE_ALL "Enables every artifact by default" ON)' in text


def test_features_come_after_the_features_they_require(own: Topology, text: str) -> None:
    position = {
        m.group(1): m.start() for m in re.finditer(r"^rockshard_add_feature\((\w+)$", text, re.M)
    }
    assert len(position) == len(own.artifacts)
    for artifact in own.artifacts.values():
        for dep in artifact.artifact_deps:
            required = own.artifacts[dep].feature_name
            assert position[required] < position[artifact.feature_name], (artifact.name, dep)


def test_platform_and_processor_disables(own: Topology, text: str) -> None:
    disabled = {
        a.feature_name: a
        for a in own.artifacts.values()
        if a.disable_platforms or a.disable_processors
    }
    assert disabled, "the topology disables an artifact on windows and one on aarch64"
    for feature, artifact in disabled.items():
        block = text.split(f"rockshard_add_feature({feature}\n", 1)[1].split("\n)\n", 1)[0]
        if artifact.disable_platforms:
            assert f"  DISABLE_PLATFORMS {' '.join(artifact.disable_platforms)}" in block
        if artifact.disable_processors:
            assert f"  DISABLE_PROCESSORS {' '.join(artifact.disable_processors)}" in block


def test_stage_and_artifact_variables(own: Topology, text: str) -> None:
    order = queries.build_order(own)
    assert "set(ROCKSHARD_STAGES\n" + "".join(f"  {s}\n" for s in order) + ")" in text
    for stage in own.build_stages.values():
        produced = " ".join(queries.produced_artifacts(own, stage.name))
        inbound = " ".join(queries.inbound_artifacts(own, stage.name))
        assert f"set(ROCKSHARD_STAGE_{stage.name}_TYPE {stage.type})" in text
        assert f"set(ROCKSHARD_STAGE_{stage.name}_ARTIFACTS {produced})" in text
        assert f"set(ROCKSHARD_STAGE_{stage.name}_INBOUND {inbound})".replace(" )", ")") in text
    for artifact in own.artifacts.values():
        producer = own.artifact_to_stage[artifact.name]
        assert f'set(ROCKSHARD_ARTIFACT_{artifact.name}_STAGE "{producer}")' in text
        assert f"set(ROCKSHARD_ARTIFACT_{artifact.name}_TYPE {artifact.type})" in text


def test_output_is_byte_stable(own: Topology, text: str) -> None:
    assert generate(own, "rockshard", source="BUILD_TOPOLOGY.toml") == text
    assert text.endswith(")\n") and not text.endswith("\n\n")


COLLIDING = """
[metadata]
version = "2.0"
[build_stages.all]
artifact_groups = ["g"]
[artifact_groups.g]
type = "generic"
[artifacts.tools]
artifact_group = "g"
[artifacts.kinfo]
artifact_group = "g"
feature_group = "TOOLS"
"""


def test_a_feature_group_named_like_a_feature_is_refused() -> None:
    topology, findings = parse_topology(COLLIDING, "colliding.toml")
    assert not findings
    with pytest.raises(InputError, match=r"feature group TOOLS and artifact 'tools'"):
        generate(topology, "rockshard", source="colliding.toml")
