"""Queries on the repository's own topology, TheRock's real one, and a very deep chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.errors import InputError
from action_lib.topology import Conditions, Topology, load_topology
from action_lib.topology import queries as q
from action_lib.topology.loader import parse_topology
from tests.test_topology_properties import naive_closure

LINUX = Conditions("linux")
WINDOWS = Conditions("windows")


@pytest.fixture(scope="module")
def own(repo_root: Path) -> Topology:
    return load_topology(repo_root / "BUILD_TOPOLOGY.toml")


@pytest.fixture(scope="module")
def therock(therock_topology_path: Path) -> Topology:
    return load_topology(therock_topology_path)


def test_own_topology_shape(own: Topology) -> None:
    assert len(own.build_stages) >= 6 and len(own.artifacts) >= 14
    assert len(own.artifact_groups) >= 8 and len(own.source_sets) >= 4
    assert any(s.per_arch for s in own.build_stages.values())
    assert q.stage_waves(own, LINUX) == [
        ["foundation"],
        ["compiler-runtime"],
        ["comm-libs", "math-libs"],
        ["ml-libs", "tools"],
    ]


def test_platform_drops_stage_and_its_deps(own: Topology) -> None:
    assert q.produced_artifacts(own, "comm-libs", WINDOWS) == ()
    assert q.inbound_artifacts(own, "comm-libs", WINDOWS) == ()
    assert "comm-libs" not in q.active_stages(own, WINDOWS)
    assert "ccl" in q.inbound_artifacts(own, "tools", LINUX)
    assert "ccl" not in q.inbound_artifacts(own, "tools", WINDOWS)


def test_processor_filter(own: Topology) -> None:
    assert "smi" in q.produced_artifacts(own, "tools", Conditions("linux", "x86_64"))
    assert "smi" not in q.produced_artifacts(own, "tools", Conditions("linux", "aarch64"))


def test_expand_jobs(own: Topology) -> None:
    jobs = q.expand_jobs(own, ["fam-a", "fam-b"], LINUX)
    assert [(j.stage, j.family) for j in jobs] == [
        ("foundation", ""),
        ("compiler-runtime", ""),
        ("comm-libs", ""),
        ("math-libs", "fam-a"),
        ("math-libs", "fam-b"),
        ("ml-libs", "fam-a"),
        ("ml-libs", "fam-b"),
        ("tools", ""),
    ]


def test_unknown_stage_suggests(own: Topology) -> None:
    with pytest.raises(InputError, match="did you mean 'math-libs'"):
        q.inbound_artifacts(own, "math-lib")


def test_source_sets_and_reverse_indexes(own: Topology) -> None:
    assert q.stage_source_sets(own, "math-libs") == ("math",)
    assert q.stage_source_sets(own, "comm-libs", "windows") == ()
    assert q.source_set_to_stages(own)["math"] == ("math-libs", "ml-libs")
    assert own.artifact_to_stage["fft"] == "math-libs"


def test_therock_counts_and_clean(therock: Topology) -> None:
    assert (
        len(therock.build_stages),
        len(therock.artifact_groups),
        len(therock.artifacts),
        len(therock.source_sets),
    ) == (11, 22, 73, 12)


@pytest.mark.parametrize("platform", ["linux", "windows"])
def test_therock_inbound_of_every_stage(therock: Topology, platform: str) -> None:
    cond = Conditions(platform)
    enabled = set(q.enabled_artifacts(therock, cond))
    for stage in therock.build_stages:
        produced = set(q.produced_artifacts(therock, stage, cond))
        assert (
            set(q.inbound_artifacts(therock, stage, cond))
            == naive_closure(therock, produced, enabled) - produced
        )


def test_therock_cv_libs_fetches_six_on_linux(therock: Topology) -> None:
    assert q.inbound_artifacts(therock, "cv-libs", LINUX) == (
        "amd-llvm",
        "base",
        "core-hip",
        "core-kpack",
        "core-runtime",
        "sysdeps",
    )


def test_therock_flag_enables_core_runtime_on_windows(therock: Topology) -> None:
    assert "core-runtime" not in q.produced_artifacts(therock, "compiler-runtime", WINDOWS)
    with_flag = Conditions("windows", flags=frozenset({"HSA_WINDOWS_SHARED_RUNTIME"}))
    assert "core-runtime" in q.produced_artifacts(therock, "compiler-runtime", with_flag)


def test_therock_submodules_of_a_stage(therock: Topology) -> None:
    assert "llvm-project" in q.stage_submodules(therock, "compiler-runtime")
    assert "amd-mesa" in q.stage_submodules(therock, "media-libs", "linux")
    assert "amd-mesa" not in q.stage_submodules(therock, "media-libs", "windows")
    assert q.submodule_to_source_set(therock)["llvm-project"] == "compilers"


def chain_text(depth: int) -> str:
    parts = [
        '[metadata]\nversion = "2.0"\n[build_stages.all]\nartifact_groups = ["g"]\n[artifact_groups.g]\n'
    ]
    parts.append('[artifacts.a0]\nartifact_group = "g"\n')
    parts.extend(
        f'[artifacts.a{i}]\nartifact_group = "g"\nartifact_deps = ["a{i - 1}"]\n'
        for i in range(1, depth)
    )
    return "".join(parts)


def test_chain_ten_thousand_deep_has_no_depth_limit() -> None:
    text = chain_text(10_000)
    topology, findings = parse_topology(text, "chain.toml")
    from action_lib.topology import validate_topology

    assert findings == [] and validate_topology(topology) == []
    assert len(q.analyze(topology).order) == 10_000
    cyclic = text.replace(
        '[artifacts.a0]\nartifact_group = "g"\n',
        '[artifacts.a0]\nartifact_group = "g"\nartifact_deps = ["a9999"]\n',
    )
    broken, _ = parse_topology(cyclic, "chain.toml")
    cycles = [f for f in validate_topology(broken) if f.code == "cycle"]
    assert len(cycles) == 1 and cycles[0].message.count("->") == 10_000


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["show"], "waves"),
        (["stages"], "stages"),
        (["artifacts"], "artifacts"),
        (["produced", "--stage", "math-libs"], "produced"),
        (["inbound", "--stage", "math-libs"], "inbound"),
        (["order", "--amdgpu-families", "a,b"], "jobs"),
        (["graph", "--kind", "artifacts"], "edges"),
    ],
    ids=["show", "stages", "artifacts", "produced", "inbound", "order", "graph"],
)
def test_cli_json(
    repo_root: Path, capsys: pytest.CaptureFixture[str], argv: list[str], key: str
) -> None:
    assert (
        main(
            [
                "topology",
                *argv,
                "--topology",
                str(repo_root / "BUILD_TOPOLOGY.toml"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert key in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("fmt", ["text", "dot", "mermaid"], ids=["text", "dot", "mermaid"])
def test_cli_graph_formats(repo_root: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    assert (
        main(
            [
                "topology",
                "graph",
                "--topology",
                str(repo_root / "BUILD_TOPOLOGY.toml"),
                "--format",
                fmt,
            ]
        )
        == 0
    )
    assert "tools" in capsys.readouterr().out


def test_cli_unknown_stage_exit_2(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "topology",
                "inbound",
                "--stage",
                "nope",
                "--topology",
                str(repo_root / "BUILD_TOPOLOGY.toml"),
            ]
        )
        == 2
    )
    assert "unknown stage 'nope'" in capsys.readouterr().err
