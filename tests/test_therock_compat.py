"""``action_lib.therock``: TheRock's build_topology API, answered by rockshard's engine."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from action_lib import therock
from action_lib.cli.main import main
from action_lib.topology import Conditions, load_topology
from action_lib.topology import queries as q
from action_lib.topology.loader import SCHEMA
from tests.test_cmakegen import FIXTURE, read_raw
from tests.test_configure_stage import raw_features

METHODS = [
    "get_build_stages",
    "get_artifact_groups",
    "get_artifacts",
    "get_artifacts_in_group",
    "is_artifact_disabled_on_platform",
    "is_artifact_disabled_on_processor",
    "get_artifact_feature_name",
    "get_artifact_feature_group",
    "get_inbound_artifacts",
    "get_produced_artifacts",
    "validate_topology",
    "get_dependency_graph",
    "get_build_order",
    "get_source_set_to_artifact_groups",
    "get_artifact_group_to_artifacts",
    "get_artifact_group_to_build_stages",
    "get_artifact_to_producer_stages",
    "get_stage_to_source_sets",
    "get_source_set_to_stages",
    "get_submodule_to_source_set",
    "get_source_set_for_submodule",
    "get_source_sets_for_submodules",
    "get_source_sets_for_stage",
    "get_submodules_for_stage",
    "get_external_git_sources_for_stage",
    "get_all_submodules",
    "get_all_external_git_sources",
    "get_python_requires_for_stage",
]
STAGE_METHODS = [
    "get_inbound_artifacts",
    "get_produced_artifacts",
    "get_source_sets_for_stage",
    "get_submodules_for_stage",
    "get_external_git_sources_for_stage",
    "get_python_requires_for_stage",
]


@pytest.fixture(scope="module")
def tr(therock_topology_path: Path) -> therock.BuildTopology:
    """TheRock's topology through the compatibility API."""
    return therock.BuildTopology(str(therock_topology_path))


@pytest.fixture(scope="module")
def raw_tr(therock_topology_path: Path) -> dict[str, Any]:
    return read_raw(therock_topology_path)


def therock_inbound_reference(raw: dict[str, Any], stage: str) -> set[str]:
    """TheRock's semantics, written from its description and nothing else."""
    artifacts = raw["artifacts"]
    groups = set(raw["build_stages"][stage]["artifact_groups"])
    produced = {a for a, body in artifacts.items() if body["artifact_group"] in groups}

    def closure(name: str, into: set[str]) -> None:
        for dep in artifacts.get(name, {}).get("artifact_deps", []):
            if dep not in into:
                into.add(dep)
                closure(dep, into)

    out: set[str] = set()
    for group in groups:
        for dep_group in raw["artifact_groups"].get(group, {}).get("artifact_group_deps", []):
            for name, body in artifacts.items():
                if body["artifact_group"] == dep_group:
                    out.add(name)
                    closure(name, out)
    for name in produced:
        for dep in artifacts[name].get("artifact_deps", []):
            out.add(dep)
            closure(dep, out)
    return out - produced


# --- the surface ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS, ids=METHODS)
def test_every_method_exists(method: str) -> None:
    assert callable(getattr(therock.BuildTopology, method))


def test_module_names_and_dataclass_fields() -> None:
    for name in ("get_topology", "generate_feature_declarations", "get_stage_features"):
        assert callable(getattr(therock, name))
    fields = {
        cls: {f.name for f in dataclasses.fields(cls)}
        for cls in (therock.Artifact, therock.ArtifactGroup, therock.BuildStage, therock.SourceSet)
    }
    assert fields[therock.Artifact] == {"name", *SCHEMA["artifacts"]}
    assert fields[therock.ArtifactGroup] == {"name", *SCHEMA["artifact_groups"]}
    assert fields[therock.BuildStage] == {"name", *SCHEMA["build_stages"]}
    assert fields[therock.SourceSet] == {"name", *SCHEMA["source_sets"]}
    assert [f.name for f in dataclasses.fields(therock.ExternalGitSource)] == [
        "name",
        "origin",
        "commit",
        "path",
    ]
    assert (
        therock.Submodule("a") == therock.Submodule("a")
        and len({therock.Submodule("a"), therock.Submodule("a")}) == 1
    )


@pytest.mark.therock
def test_dicts_and_objects_match_the_file(
    tr: therock.BuildTopology, raw_tr: dict[str, Any]
) -> None:
    assert list(tr.artifacts) == list(raw_tr["artifacts"])
    assert [s.name for s in tr.get_build_stages()] == list(raw_tr["build_stages"])
    assert [g.name for g in tr.get_artifact_groups()] == list(raw_tr["artifact_groups"])
    for name, body in raw_tr["artifacts"].items():
        artifact = tr.artifacts[name]
        assert artifact.artifact_deps == body.get("artifact_deps", [])
        assert artifact.disable_platforms_if_flags_not_set == body.get(
            "disable_platforms_if_flags_not_set", {}
        )
        assert tr.get_artifact_feature_name(artifact) == body.get(
            "feature_name", name.upper().replace("-", "_")
        )
        default_group = body["artifact_group"].upper().replace("-", "_")
        assert tr.get_artifact_feature_group(artifact) == body.get("feature_group", default_group)
    assert [a.name for a in tr.get_artifacts_in_group("compiler")] == ["amd-llvm", "hipify"]
    assert tr.get_artifacts_in_group("no-such-group") == []
    assert tr.validate_topology() == []


# --- stages --------------------------------------------------------------------------------------


@pytest.mark.therock
def test_inbound_keeps_therock_semantics(tr: therock.BuildTopology, raw_tr: dict[str, Any]) -> None:
    over_approximated = 0
    for stage in raw_tr["build_stages"]:
        inbound = tr.get_inbound_artifacts(stage)
        assert inbound == therock_inbound_reference(raw_tr, stage), stage
        exact = set(q.inbound_artifacts(tr.topology, stage))
        assert exact <= inbound
        over_approximated += inbound != exact
        produced = {
            a
            for a, b in raw_tr["artifacts"].items()
            if b["artifact_group"] in raw_tr["build_stages"][stage]["artifact_groups"]
        }
        assert tr.get_produced_artifacts(stage) == produced
    assert over_approximated > 0  # on TheRock's real topology, the approximation costs downloads


def test_inbound_on_own_topology(repo_root: Path) -> None:
    path = repo_root / "BUILD_TOPOLOGY.toml"
    topology, raw = therock.get_topology(path), read_raw(path)
    for stage in raw["build_stages"]:
        assert topology.get_inbound_artifacts(stage) == therock_inbound_reference(raw, stage)


@pytest.mark.parametrize("method", STAGE_METHODS, ids=STAGE_METHODS)
def test_unknown_stage_raises_value_error(method: str) -> None:
    topology = therock.BuildTopology(FIXTURE)
    with pytest.raises(ValueError, match=r"Build stage 'aps' not found.*did you mean 'apps'"):
        getattr(topology, method)("aps")
    with pytest.raises(ValueError):
        therock.get_stage_features(topology, "aps")


@pytest.mark.therock
def test_build_order_puts_producers_first(tr: therock.BuildTopology) -> None:
    order = tr.get_build_order()
    assert sorted(order) == sorted(tr.build_stages)
    producers = tr.get_artifact_to_producer_stages()
    for stage in order:
        for artifact in tr.get_inbound_artifacts(stage):
            for producer in producers[artifact]:
                assert order.index(producer) < order.index(stage), (producer, stage)


@pytest.mark.therock
def test_dependency_graph(tr: therock.BuildTopology) -> None:
    data = tr.get_dependency_graph()
    json.dumps(data)  # plain data
    assert set(data) == {"build_stages", "artifact_groups", "artifacts"}
    stage = data["build_stages"]["math-libs"]
    assert set(stage["inbound_artifacts"]) == tr.get_inbound_artifacts("math-libs")
    assert data["artifacts"]["core-hip"]["depends_on"] == ["core-runtime", "amd-llvm", "core-kpack"]


# --- conditions ----------------------------------------------------------------------------------

CONDITION_CASES = [
    ("core-runtime", "windows", None, True),
    ("core-runtime", "windows", {"HSA_WINDOWS_SHARED_RUNTIME"}, False),
    ("core-runtime", "linux", None, False),
    ("sysdeps-gmp", "windows", None, True),
    ("sysdeps-gmp", "", None, False),
    ("core-hipinfo", "linux", None, True),  # platform = "windows"
    ("core-hipinfo", "windows", None, False),
]


@pytest.mark.therock
@pytest.mark.parametrize(
    ("name", "platform", "flags", "disabled"),
    CONDITION_CASES,
    ids=[f"{c[0]}-{c[1] or 'any'}-{bool(c[2])}" for c in CONDITION_CASES],
)
def test_disabled_on_platform(
    tr: therock.BuildTopology, name: str, platform: str, flags: set[str] | None, disabled: bool
) -> None:
    assert tr.is_artifact_disabled_on_platform(tr.artifacts[name], platform, flags) is disabled


@pytest.mark.therock
def test_disabled_on_processor(tr: therock.BuildTopology) -> None:
    assert tr.is_artifact_disabled_on_processor(tr.artifacts["rocprofiler-systems"], "ppc64le")
    assert not tr.is_artifact_disabled_on_processor(tr.artifacts["rocprofiler-systems"], "x86_64")
    assert not tr.is_artifact_disabled_on_processor(tr.artifacts["rocprofiler-systems"], "")
    with pytest.raises(ValueError):
        tr.is_artifact_disabled_on_processor("no-such-artifact", "x86_64")


@pytest.mark.therock
@pytest.mark.parametrize("platform", ["linux", "windows"], ids=["linux", "windows"])
def test_stage_features_match_configure_stage(
    tr: therock.BuildTopology,
    raw_tr: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    platform: str,
) -> None:
    for stage in tr.build_stages:
        features = therock.get_stage_features(tr, stage, platform, processor_name="x86_64")
        assert sorted(features) == raw_features(raw_tr, stage, platform, "x86_64")
        argv = [
            "configure-stage",
            "--topology",
            str(tr.toml_path),
            "--stage",
            stage,
            "--platform",
            platform,
        ]
        assert main([*argv, "--processor", "x86_64", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["features"] == sorted(features)
    with_flag = therock.get_stage_features(
        tr.topology, "compiler-runtime", "windows", {"HSA_WINDOWS_SHARED_RUNTIME"}
    )
    assert "CORE_RUNTIME" in with_flag
    assert "CORE_RUNTIME" not in therock.get_stage_features(tr, "compiler-runtime", "windows")


# --- source sets -----------------------------------------------------------------------------------


@pytest.mark.therock
def test_source_set_queries(tr: therock.BuildTopology, raw_tr: dict[str, Any]) -> None:
    found = tr.get_source_set_for_submodule("rocm-libraries")
    assert found is not None and found.name == "rocm-libraries"
    assert tr.get_source_set_for_submodule("no-such-submodule") is None
    assert tr.get_source_set_for_submodule("amd-mesa", platform="windows") is None
    names = [
        s.name
        for s in tr.get_source_sets_for_submodules(["llvm-project", "HIPIFY", "nope", "half"])
    ]
    assert names == ["compilers", "base"]  # first seen first, without repeats
    owner = {
        sub: name
        for name, body in raw_tr["source_sets"].items()
        for sub in body.get("submodules", [])
    }
    assert tr.get_submodule_to_source_set() == owner
    assert {s.name for s in tr.get_all_submodules()} == set(owner)
    assert [e.name for e in tr.get_all_external_git_sources()] == ["hrx"]
    stage_sets = tr.get_stage_to_source_sets()
    by_set = tr.get_source_set_to_stages()
    assert set(by_set) == set(raw_tr["source_sets"])
    assert {(s, ss) for s, sets in stage_sets.items() for ss in sets} == {
        (s, ss) for ss, stages in by_set.items() for s in stages
    }
    for stage, body in raw_tr["build_stages"].items():
        expected = {
            ss
            for g in body["artifact_groups"]
            for ss in raw_tr["artifact_groups"][g].get("source_sets", [])
        }
        assert set(stage_sets[stage]) == expected
        assert [s.name for s in tr.get_source_sets_for_stage(stage)] == stage_sets[stage]
    media = {s.name for s in tr.get_submodules_for_stage("media-libs")}
    assert "amd-mesa" in media and "amd-mesa" not in {
        s.name for s in tr.get_submodules_for_stage("media-libs", "windows")
    }
    assert tr.get_external_git_sources_for_stage("math-libs") == []
    groups_of_set = tr.get_source_set_to_artifact_groups()
    assert groups_of_set["compilers"] == ["compiler"] and groups_of_set["ml-frameworks"] == [
        "ml-libs"
    ]


@pytest.mark.therock
def test_group_and_producer_indexes(tr: therock.BuildTopology, raw_tr: dict[str, Any]) -> None:
    by_group = tr.get_artifact_group_to_artifacts()
    assert set(by_group) == set(raw_tr["artifact_groups"])
    for group, names in by_group.items():
        assert names == [a for a, b in raw_tr["artifacts"].items() if b["artifact_group"] == group]
    stages_of_group = tr.get_artifact_group_to_build_stages()
    assert stages_of_group["ml-libs"] == ["math-libs"]
    assert tr.get_artifact_to_producer_stages()["rocgdb"] == ["debug-tools"]


def test_python_requires_and_feature_overrides() -> None:
    topology = therock.BuildTopology(FIXTURE)
    assert topology.get_python_requires_for_stage("apps") == ["-r requirements-viewer.txt", "numpy"]
    assert topology.get_python_requires_for_stage("core") == []
    assert topology.artifacts["gpu-kernels"].feature_name == "KERNELS"
    assert topology.artifacts["zlib"].feature_name is None  # not overridden, as in TheRock
    assert topology.get_artifact_feature_name("zlib") == "ZLIB"


# --- loading -------------------------------------------------------------------------------------------


def test_get_topology_default_and_errors(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_root)
    assert set(therock.get_topology().build_stages) == set(
        read_raw(repo_root / "BUILD_TOPOLOGY.toml")["build_stages"]
    )
    with pytest.raises(FileNotFoundError):
        therock.get_topology(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[artifacts.x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="malformed TOML"):
        therock.BuildTopology(str(broken))
    invalid = tmp_path / "invalid.toml"
    invalid.write_text(
        FIXTURE.read_text(encoding="utf-8").replace(
            'artifact_deps = ["zlib"]', 'artifact_deps = ["zlibb"]'
        ),
        encoding="utf-8",
    )
    errors = therock.BuildTopology(invalid).validate_topology()
    assert errors and all(isinstance(e, str) for e in errors)
    assert any("zlibb" in e for e in errors)


def test_generate_feature_declarations(repo_root: Path) -> None:
    topology = therock.get_topology(repo_root / "BUILD_TOPOLOGY.toml")
    stream = io.StringIO()
    therock.generate_feature_declarations(topology, stream)
    part = stream.getvalue()
    assert part.count("therock_add_feature(") == len(topology.artifacts)
    whole = (Path(__file__).parent / "golden" / "therock_own.cmake").read_text(encoding="utf-8")
    body = part.split("\n\n", 1)[1]
    assert body in whole  # the same declarations as `rockshard cmake`
    other = io.StringIO()
    therock.generate_feature_declarations(load_topology(repo_root / "BUILD_TOPOLOGY.toml"), other)
    assert other.getvalue() == part


# --- rockshard topology inbound --compare-therock --------------------------------------------------------


@pytest.mark.therock
def test_compare_therock_cli(tr: therock.BuildTopology, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["topology", "inbound", "--topology", str(tr.toml_path), "--compare-therock"]
    assert main([*argv, "--format", "json"]) == 0
    extra = json.loads(capsys.readouterr().out)["therock_extra"]
    assert set(extra) == set(tr.build_stages)
    for stage, names in extra.items():
        assert set(names) == tr.get_inbound_artifacts(stage) - set(
            q.inbound_artifacts(tr.topology, stage)
        )
    assert any(extra.values())
    assert main([*argv, "--stage", "math-libs"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[2].split()[0] == "math-libs" and len(text.splitlines()) == 3
    assert main([*argv, "--stage", "mathlibs"]) == 2
    assert "did you mean 'math-libs'" in capsys.readouterr().err
    windows = therock.compare_inbound(tr.topology, Conditions("windows"))
    exact = set(q.inbound_artifacts(tr.topology, "math-libs", Conditions("windows")))
    assert set(windows["math-libs"]) == tr.get_inbound_artifacts("math-libs") - exact


def test_inbound_without_stage_or_compare_is_exit_2(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["topology", "inbound", "--topology", str(repo_root / "BUILD_TOPOLOGY.toml")]) == 2
    assert "needs --stage" in capsys.readouterr().err
