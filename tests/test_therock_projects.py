"""Project selection (``action_lib.therock.projects``) on topologies and maps written here:
the precedence of the name layers, the maps' errors, and properties over random topologies."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from action_lib import therock
from action_lib.cli.main import main
from action_lib.errors import InputError
from action_lib.therock import projects as pj
from action_lib.topology import Conditions, Topology
from action_lib.topology import queries as q
from tests.test_topology_properties import dag_topologies

TOPOLOGY = """\
[metadata]
version = "2.0"

[build_stages.first]
artifact_groups = ["base"]

[build_stages.second]
artifact_groups = ["libs"]

[artifact_groups.base]
[artifact_groups.libs]
artifact_group_deps = ["base"]

[artifacts.core]
artifact_group = "base"

[artifacts.runtime]
artifact_group = "base"
artifact_deps = ["core"]
test_artifacts = ["runtime-tests"]

[artifacts.runtime-tests]
artifact_group = "libs"
artifact_deps = ["runtime"]

[artifacts.math]
artifact_group = "libs"
artifact_deps = ["runtime"]
split_databases = ["mathdb", "core"]

[artifacts.sparse]
artifact_group = "libs"
artifact_deps = ["math"]
disable_platforms = ["windows"]
"""

SUBPROJECTS = {
    "core": ["libcore", "shared-sub"],
    "runtime": ["librt", "shared-sub", "mathdb", "sys-dir"],
    "math": ["libmath", "libsparse-gated"],
    "sparse": ["libsparse"],
    "no-such-artifact": ["ghost"],
}
MAPPINGS = {
    "rocm_systems_projects": {"sys-dir": "core", "math": "core", "elsewhere": "no-such-artifact"},
    "subproject_features": {"libsparse-gated": "SPARSE"},
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "build_tools").mkdir()
    (tmp_path / "BUILD_TOPOLOGY.toml").write_text(TOPOLOGY, encoding="utf-8")
    (tmp_path / "build_tools" / "artifact_subprojects.json").write_text(
        json.dumps(SUBPROJECTS), encoding="utf-8"
    )
    (tmp_path / "build_tools" / "project_mappings.json").write_text(
        json.dumps(MAPPINGS), encoding="utf-8"
    )
    return tmp_path


def test_name_layers(repo: Path) -> None:
    aliases = therock.BuildTopology(repo / "BUILD_TOPOLOGY.toml").get_alias_to_artifact_map()
    assert aliases["libcore"] == "core"
    assert aliases["shared-sub"] == "core"  # listed by two artifacts: the first in file order
    assert aliases["mathdb"] == "math"  # a split database beats a subproject
    assert aliases["sys-dir"] == "core"  # a rocm-systems name beats a subproject
    assert aliases["math"] == "math"  # an artifact name always means itself
    assert aliases["core"] == "core"  # even when another artifact's split database says otherwise
    assert "ghost" not in aliases and "elsewhere" not in aliases  # unknown artifacts are dropped


def test_features_conditions_and_gates(repo: Path) -> None:
    topology = therock.BuildTopology(repo / "BUILD_TOPOLOGY.toml")
    assert topology.resolve_projects_to_features(["LIBSPARSE-GATED", "librt"]) == {
        "SPARSE",
        "RUNTIME",
    }
    assert topology.resolve_projects_to_features(["libsparse"], "windows") == set()
    assert topology.resolve_projects_to_features(["libsparse-gated"], "windows") == set()
    assert topology.resolve_projects_to_features(["nothing"]) == set()
    assert topology.get_stages_for_projects(["libcore"]) == {"first"}
    # runtime's test artifact is built in "second", which needs "first"
    assert topology.get_stages_for_projects(["librt"]) == {"first", "second"}
    assert topology.filter_projects_for_stage(["libcore", "libmath", "x"], "second") == ["libmath"]


def test_cli_projects_on_written_maps(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["configure-stage", "--topology", str(repo / "BUILD_TOPOLOGY.toml"), "--platform"]
    assert main([*argv, "linux", "--projects", "libmath", "libsparse-gated"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "-DTHEROCK_ENABLE_ALL=OFF",
        "-DTHEROCK_ENABLE_MATH=ON",
        "-DTHEROCK_ENABLE_SPARSE=ON",
    ]
    assert main([*argv, "linux", "--projects", "libmth"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown project 'libmth' (nearest: libmath" in err
    assert main([*argv, "linux", "--stage", "second", "--projects", "libcore"]) == 0
    captured = capsys.readouterr()
    assert "builds none of libcore" in captured.err
    assert captured.out.splitlines()[-1] == "-DTHEROCK_ENABLE_SPARSE=ON"  # the whole stage


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("artifact_subprojects.json", "{", "artifact_subprojects.json:1: not valid JSON"),
        ("artifact_subprojects.json", '{"core": "libcore"}', "must map each artifact name"),
        ("project_mappings.json", '{"subproject_features": []}', "must be a table of strings"),
        (
            "project_mappings.json",
            '{"subproject_features": {"libmath": "NOPE"}}',
            "maps to feature 'NOPE', which no artifact",
        ),
    ],
    ids=["json", "manifest-shape", "mappings-shape", "unknown-feature"],
)
def test_bad_maps_are_one_line_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, message: str
) -> None:
    (repo / "build_tools" / name).write_text(content, encoding="utf-8")
    argv = ["configure-stage", "--topology", str(repo / "BUILD_TOPOLOGY.toml"), "--projects", "x"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    with pytest.raises(ValueError, match=message.split(":")[-1].strip()):
        therock.BuildTopology(repo / "BUILD_TOPOLOGY.toml").resolve_projects_to_features(["x"])


def test_without_maps_projects_are_artifact_names(tmp_path: Path) -> None:
    (tmp_path / "BUILD_TOPOLOGY.toml").write_text(TOPOLOGY, encoding="utf-8")
    topology = therock.BuildTopology(tmp_path / "BUILD_TOPOLOGY.toml")
    assert topology.load_subproject_manifest() is None
    assert topology.resolve_projects_to_features(["MATH", "mathdb", "libmath"]) == {"MATH"}
    with pytest.raises(InputError, match=r"unknown project 'libmath' \(nearest: math, mathdb\); a"):
        pj.check_projects(topology.topology, topology.project_maps(), ["libmath"])


@pytest.mark.parametrize(
    ("given_names", "expected"),
    [
        (["projects/hip", "hip/src/a.cpp", "rocblas"], ["hip", "rocblas"]),
        (["a,b", " c ", "b"], ["a", "b", "c"]),
        (["projects/x/y,z"], ["x", "z"]),
    ],
    ids=["paths", "commas", "mixed"],
)
def test_split_projects(given_names: list[str], expected: list[str]) -> None:
    assert pj.split_projects(given_names) == expected


# --- properties over random topologies ------------------------------------------------------------------


def naive_stages(topology: Topology, artifacts: set[str]) -> set[str]:
    """TheRock's description, as a fixed point: test artifacts, their stages, then every stage
    producing a dependency of any artifact of a needed stage."""
    wanted = set(artifacts)
    while True:
        more = {t for a in wanted for t in topology.artifacts[a].test_artifacts} - wanted
        if not more:
            break
        wanted |= more
    stages = {topology.artifact_to_stage[a] for a in wanted if a in topology.artifact_to_stage}
    while True:
        members = {
            a.name
            for a in topology.artifacts.values()
            if a.name in topology.artifact_to_stage and topology.artifact_to_stage[a.name] in stages
        }
        needed = {
            topology.artifact_to_stage[d]
            for a in members
            for d in topology.artifacts[a].artifact_deps
            if d in topology.artifact_to_stage
        }
        if needed <= stages:
            return stages
        stages |= needed


@settings(max_examples=120, deadline=None)
@given(dag_topologies(), st.data())
def test_stages_for_projects_is_therocks_closure(topology: Topology, data: st.DataObject) -> None:
    names = sorted(topology.artifacts)
    chosen = data.draw(st.lists(st.sampled_from(names), max_size=4, unique=True))
    tests = data.draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    if chosen and tests:  # give one chosen artifact test artifacts
        first = topology.artifacts[chosen[0]]
        artifacts = dict(topology.artifacts)
        artifacts[first.name] = dataclasses.replace(first, test_artifacts=tuple(tests))
        topology = dataclasses.replace(topology, artifacts=artifacts)
    maps = pj.ProjectMaps()
    stages = pj.stages_for_projects(topology, maps, [n.upper() for n in chosen] + ["zz"])
    assert stages == naive_stages(topology, set(chosen))
    for stage in stages:  # closed: every dependency of a needed stage is built by a needed stage
        for a in q.produced_artifacts(topology, stage):
            for dep in topology.artifacts[a].artifact_deps:
                assert topology.artifact_to_stage[dep] in stages
    for stage in topology.build_stages:
        own = pj.filter_projects_for_stage(topology, maps, chosen, stage)
        assert own == [n for n in chosen if topology.artifact_to_stage[n] == stage]


@settings(max_examples=120, deadline=None)
@given(
    dag_topologies(), st.sampled_from([Conditions(), Conditions("linux"), Conditions("windows")])
)
def test_project_features_are_those_of_enabled_artifacts(
    topology: Topology, cond: Conditions
) -> None:
    enabled = set(q.enabled_artifacts(topology, cond))
    for name in topology.artifacts:
        features = pj.project_features(topology, pj.ProjectMaps(), [name], cond)
        expected = {topology.artifacts[name].feature_name} if name in enabled else set()
        assert features == expected


def test_build_order_respects_group_deps_and_inbound(tmp_path: Path) -> None:
    """Group deps pointing the other way from name order, plus one artifact dependency."""
    stages = "\n".join(
        f'[build_stages.s{i}]\nartifact_groups = ["g{i}"]\n[artifact_groups.g{i}]\n'
        + (f'artifact_group_deps = ["g{i + 1}"]\n' if i < 4 else "")
        + f'[artifacts.a{i}]\nartifact_group = "g{i}"\n'
        for i in range(5)
    )
    path = tmp_path / "T.toml"
    path.write_text('[metadata]\nversion = "2.0"\n' + stages, encoding="utf-8")
    order = therock.BuildTopology(path).get_build_order()
    assert order == ["s4", "s3", "s2", "s1", "s0"]
