"""TheRock's documented behaviours, run against ``action_lib.therock`` on TheRock's real data.

What TheRock's own tests and docs say its ``build_topology``, ``configure_stage`` and
``topology_to_cmake`` do (project resolution through its two maps, feature-gated subprojects,
stage filtering, ``--projects`` with ``--stage``), written here from those descriptions; then
``rockshard configure-stage`` side by side with the compatibility API for every stage, both
platforms and several ``--projects`` lists, and every project named in TheRock's maps resolved by
both and by an independent reading of the JSON files.
"""

from __future__ import annotations

import io
import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from action_lib import cmakegen, therock
from action_lib.cli.main import main
from action_lib.therock import configure_stage, topology_to_cmake
from action_lib.topology import load_topology
from tests.test_cmakegen import feature_of, read_raw
from tests.test_configure_stage import raw_enabled, raw_features

pytestmark = pytest.mark.therock

PLATFORMS = ("linux", "windows")
PROJECT_LISTS = [
    ["rocblas", "miopen"],
    ["projects/hip", "rccl"],
    ["hipSPARSE", "rocSOLVER", "rocfft"],
    ["rocprofiler-sdk", "amdsmi", "rdc", "roctracer"],
]
FAMILY, DIST = "gfx94X-dcgpu", "gfx94X-dcgpu;gfx110X-all"


@pytest.fixture(scope="module")
def tr(therock_topology_path: Path) -> therock.BuildTopology:
    return therock.BuildTopology(therock_topology_path)


@pytest.fixture(scope="module")
def raw(therock_topology_path: Path) -> dict[str, Any]:
    return read_raw(therock_topology_path)


@pytest.fixture(scope="module")
def maps(therock_dir: Path) -> tuple[dict[str, list[str]], dict[str, Any]]:
    tools = therock_dir / "build_tools"
    subprojects = json.loads((tools / "artifact_subprojects.json").read_text(encoding="utf-8"))
    mappings = json.loads((tools / "project_mappings.json").read_text(encoding="utf-8"))
    return subprojects, mappings


def cli_lines(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main(["configure-stage", *argv]) == 0, capsys.readouterr().err
    return capsys.readouterr().out.splitlines()


# --- an independent reading of TheRock's maps ------------------------------------------------------


def reference_aliases(
    raw: dict[str, Any], subprojects: dict[str, list[str]], mappings: dict[str, Any]
) -> dict[str, str]:
    """TheRock's loop as its code reads: per artifact in file order, its name, then its
    subprojects unless already taken, then its split databases; rocm-systems names last."""
    aliases: dict[str, str] = {}
    for name, body in raw["artifacts"].items():
        aliases[name.lower()] = name
        for sub in subprojects.get(name, []):
            if sub.lower() not in aliases or sub.lower() == name:
                aliases[sub.lower()] = name
        for db in body.get("split_databases", []):
            aliases[db.lower()] = name
    for directory, artifact in mappings["rocm_systems_projects"].items():
        aliases[directory.lower()] = artifact
    return aliases


def reference_features(
    raw: dict[str, Any],
    subprojects: dict[str, list[str]],
    mappings: dict[str, Any],
    name: str,
    platform: str,
    aliases: dict[str, str] | None = None,
) -> set[str]:
    gated = {k.lower(): v for k, v in mappings["subproject_features"].items()}
    enabled = {a for a in raw["artifacts"] if raw_enabled(raw, a, platform, "x86_64", set())}
    if name.lower() in gated:
        feature = gated[name.lower()]
        return {feature} if any(feature_of(raw, a) == feature for a in enabled) else set()
    if aliases is None:
        aliases = reference_aliases(raw, subprojects, mappings)
    artifact = aliases.get(name.lower())
    return {feature_of(raw, artifact)} if artifact is not None and artifact in enabled else set()


def every_project_name(
    raw: dict[str, Any], subprojects: dict[str, list[str]], mappings: dict[str, Any]
) -> list[str]:
    names = set(subprojects) | {s for subs in subprojects.values() for s in subs}
    names |= set(mappings["rocm_systems_projects"]) | set(mappings["subproject_features"])
    names |= set(raw["artifacts"])
    names |= {db for body in raw["artifacts"].values() for db in body.get("split_databases", [])}
    return sorted(names)


# --- TheRock's documented behaviours ---------------------------------------------------------------


def flags(tr: therock.BuildTopology, projects: list[str], **kw: Any) -> list[str]:
    return configure_stage.generate_cmake_args(
        stage_name=kw.get("stage_name"),
        amdgpu_families=kw.get("amdgpu_families", ""),
        dist_amdgpu_families=kw.get("dist_amdgpu_families", ""),
        topology=tr,
        project_names=projects,
        platform_name=kw.get("platform_name", "linux"),
    )


def test_artifact_subproject_and_split_database_names_resolve(tr: therock.BuildTopology) -> None:
    assert "-DTHEROCK_ENABLE_BLAS=ON" in flags(tr, ["blas"])
    assert "-DTHEROCK_ENABLE_FFT=ON" in flags(tr, ["rocfft"])
    assert "-DTHEROCK_ENABLE_BLAS=ON" in flags(tr, ["RocBLAS"])
    assert "-DTHEROCK_ENABLE_BLAS=ON" in flags(tr, ["hipblaslt"])
    assert "-DTHEROCK_ENABLE_SPARSE=ON" in flags(tr, ["hipsparselt"])
    assert flags(tr, ["blas", "miopen", "rccl"]) == [
        "-DTHEROCK_ENABLE_ALL=OFF",
        "-DTHEROCK_ENABLE_BLAS=ON",
        "-DTHEROCK_ENABLE_MIOPEN=ON",
        "-DTHEROCK_ENABLE_RCCL=ON",
    ]


def test_feature_gated_subprojects(tr: therock.BuildTopology) -> None:
    for name in ("hipSPARSE", "rocSPARSE", "hipSPARSELt"):
        assert tr.resolve_projects_to_features([name]) == {"SPARSE"}, name
    assert tr.resolve_projects_to_features(["hipSOLVER"]) == {"SOLVER"}
    assert tr.resolve_projects_to_features(["rocBLAS"]) == {"BLAS"}
    assert tr.get_subproject_to_feature_map()["hipsparse"] == "SPARSE"


def test_rocm_systems_names_and_canonical_names(tr: therock.BuildTopology) -> None:
    aliases = tr.get_alias_to_artifact_map()
    assert aliases["hip"] == "core-hip" and aliases["clr"] == "core-hip"
    assert aliases["rocprofiler-compute"] == "rocprofiler-compute"
    assert aliases["rocprofiler-sdk"] == "rocprofiler-sdk"  # also a subproject of three others
    assert tr.resolve_project_to_artifact("ROCR-Runtime") == "core-runtime"
    assert tr.resolve_project_to_artifact("no-such-project") is None
    assert tr.resolve_alias_to_artifact("hip") == "core-hip"  # TheRock's later name


def test_subproject_features_name_real_features(
    tr: therock.BuildTopology, maps: tuple[dict[str, list[str]], dict[str, Any]]
) -> None:
    valid = {tr.get_artifact_feature_name(a) for a in tr.artifacts.values()}
    for subproject, feature in maps[1]["subproject_features"].items():
        assert feature in valid, subproject


def test_filter_projects_for_stage(tr: therock.BuildTopology) -> None:
    names = ["hip", "rccl", "rocblas"]
    assert tr.filter_projects_for_stage(names, "compiler-runtime") == ["hip"]
    assert tr.filter_projects_for_stage(names, "comm-libs") == ["rccl"]
    assert tr.filter_projects_for_stage(names, "math-libs") == ["rocblas"]
    assert tr.filter_projects_for_stage(["hip", "rccl"], "media-libs") == []
    assert tr.filter_projects_for_stage(["hip"], "nonexistent-stage") == []


def test_stage_with_projects(tr: therock.BuildTopology) -> None:
    only_hip = " ".join(flags(tr, ["hip"], stage_name="compiler-runtime"))
    assert "THEROCK_ENABLE_HIP_RUNTIME=ON" in only_hip
    assert "THEROCK_ENABLE_RCCL=ON" not in only_hip and "THEROCK_ENABLE_BLAS=ON" not in only_hip
    fallback = flags(tr, ["hip"], stage_name="math-libs")
    assert fallback == flags(tr, [], stage_name="math-libs")  # the whole stage
    assert {"-DTHEROCK_ENABLE_BLAS=ON", "-DTHEROCK_ENABLE_FFT=ON"} <= set(fallback)
    mixed = " ".join(flags(tr, ["hip", "rccl"], stage_name="comm-libs"))
    assert "THEROCK_ENABLE_RCCL=ON" in mixed and "THEROCK_ENABLE_HIP_RUNTIME=ON" not in mixed


def test_project_names_as_changed_paths(tr: therock.BuildTopology) -> None:
    assert configure_stage.normalize_project_name("projects/hip") == "hip"
    assert configure_stage.normalize_project_name("hip/src/foo.cpp") == "hip"
    assert flags(tr, ["projects/rocblas"]) == flags(tr, ["rocblas"])


def test_stages_for_projects(tr: therock.BuildTopology, raw: dict[str, Any]) -> None:
    """Closed under artifact dependencies, includes test artifacts' stages, ignores unknowns."""
    producer = tr.get_artifact_to_producer_stages()
    for name in sorted(tr.get_alias_to_artifact_map()):
        stages = tr.get_stages_for_projects([name, "not-a-project"])
        artifact = tr.resolve_project_to_artifact(name)
        assert artifact is not None and producer[artifact][0] in stages, name
        for test in raw["artifacts"][artifact].get("test_artifacts", []):
            assert producer[test][0] in stages, (name, test)
        for stage in stages:
            for a in tr.get_produced_artifacts(stage):
                for dep in tr.artifacts[a].artifact_deps:
                    assert producer[dep][0] in stages, (name, stage, dep)
    assert tr.get_stages_for_projects(["not-a-project"]) == set()
    rocr = tr.get_stages_for_projects(["rocr-runtime"])  # test_artifacts: core-hiptests, rocrtst
    assert producer["rocrtst"][0] in rocr
    assert tr.get_all_stage_names() == set(raw["build_stages"])


# --- side by side: the CLI and the compatibility API ------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS, ids=PLATFORMS)
def test_cli_equals_api_for_every_stage(
    tr: therock.BuildTopology,
    raw: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    platform: str,
) -> None:
    common = ["--topology", str(tr.toml_path), "--platform", platform, "--processor", "x86_64"]
    families = ["--amdgpu-families", FAMILY, "--dist-amdgpu-families", DIST, "--manylinux"]
    for stage in tr.build_stages:
        api = configure_stage.generate_cmake_args(
            stage, FAMILY, DIST, tr, platform_name=platform, manylinux=True, processor_name="x86_64"
        )
        assert cli_lines(capsys, *common, *families, "--stage", stage) == api, stage
        features = [a.split("_ENABLE_", 1)[1][:-3] for a in api if a.endswith("=ON")]
        assert features == raw_features(raw, stage, platform, "x86_64"), stage
        assert api[:2] == [
            f"-DTHEROCK_AMDGPU_FAMILIES={FAMILY}",
            f"-DTHEROCK_DIST_AMDGPU_FAMILIES={DIST}",
        ]
        commented = configure_stage.generate_cmake_args(
            stage, FAMILY, "", tr, True, platform, processor_name="x86_64"
        )
        argv = [*common, "--stage", stage, "--amdgpu-families", FAMILY, "--include-comments"]
        assert cli_lines(capsys, *argv) == commented
        assert commented[0] == f"# CMake arguments for {stage}"
        assert [c for c in commented if c and not c.startswith("#")] == api[:1] + api[4:]


@pytest.mark.parametrize("platform", PLATFORMS, ids=PLATFORMS)
@pytest.mark.parametrize("projects", PROJECT_LISTS, ids=["+".join(p) for p in PROJECT_LISTS])
def test_cli_equals_api_for_projects(
    tr: therock.BuildTopology,
    maps: tuple[dict[str, list[str]], dict[str, Any]],
    raw: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    projects: list[str],
    platform: str,
) -> None:
    common = ["--topology", str(tr.toml_path), "--platform", platform, "--processor", "x86_64"]
    for stage in [None, *tr.build_stages]:
        api = configure_stage.generate_cmake_args(
            stage, "", "", tr, platform_name=platform, project_names=projects
        )
        argv = [*common, "--projects", ",".join(projects), *(["--stage", stage] if stage else [])]
        assert cli_lines(capsys, *argv) == api, stage
    # the projects alone, against the JSON read independently
    names = [configure_stage.normalize_project_name(p) for p in projects]
    expected: set[str] = set()
    for name in names:
        expected |= reference_features(raw, *maps, name, platform)
    api = configure_stage.generate_cmake_args(
        None, "", "", tr, platform_name=platform, project_names=projects
    )
    assert api == [
        "-DTHEROCK_ENABLE_ALL=OFF",
        *(f"-DTHEROCK_ENABLE_{f}=ON" for f in sorted(expected)),
    ]


@pytest.mark.parametrize("platform", PLATFORMS, ids=PLATFORMS)
def test_every_project_of_therocks_maps_resolves(
    tr: therock.BuildTopology,
    raw: dict[str, Any],
    maps: tuple[dict[str, list[str]], dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    platform: str,
) -> None:
    names = every_project_name(raw, *maps)
    assert len(names) >= 100
    aliases = reference_aliases(raw, *maps)
    assert tr.get_alias_to_artifact_map() == aliases
    argv = ["--topology", str(tr.toml_path), "--platform", platform, "--processor", "x86_64"]
    for name in names:
        expected = reference_features(raw, *maps, name, platform, aliases)
        assert main(["configure-stage", *argv, "--projects", name, "--format", "json"]) == 0, name
        data = json.loads(capsys.readouterr().out)
        assert data["features"] == sorted(expected), name
        assert (
            tr.resolve_projects_to_features([name], platform, processor_name="x86_64") == expected
        )
        assert tr.resolve_project_to_artifact(name) is not None, name
    if platform == "linux":  # every name of the maps builds something on Linux
        mapped = every_project_name({"artifacts": {}}, *maps)
        assert [n for n in mapped if not reference_features(raw, *maps, n, "linux", aliases)] == []


def test_main_takes_therocks_flags(
    tr: therock.BuildTopology, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tr.toml_path.parent)
    assert (
        configure_stage.main(
            ["--projects", "rocblas", "miopen", "--oneline", "--platform", "linux"]
        )
        == 0
    )
    assert capsys.readouterr().out == (
        "-DTHEROCK_ENABLE_ALL=OFF -DTHEROCK_ENABLE_BLAS=ON -DTHEROCK_ENABLE_MIOPEN=ON\n"
    )
    assert configure_stage.main(["--projects", "rdc", "--skip-stages"]) == 0
    skipped = capsys.readouterr().out.strip().split(",")
    assert sorted(skipped) == sorted(tr.get_all_stage_names() - tr.get_stages_for_projects(["rdc"]))
    assert configure_stage.main(["--stage", "math-libs", "--comments", "--print"]) == 0
    assert capsys.readouterr().out.startswith("# CMake arguments for math-libs\n\n")
    assert configure_stage.main(["--list-projects", "--format", "json"]) == 0
    rows = {r["artifact"]: r for r in json.loads(capsys.readouterr().out)["projects"]}
    assert "hip" in rows["core-hip"]["projects"] and rows["blas"]["gated"]["hipsparse"] == "SPARSE"


def test_gha_and_file_outputs(
    tr: therock.BuildTopology,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    argv = ["--topology", str(tr.toml_path), "--platform", "linux", "--stage", "math-libs"]
    argv += ["--projects", "rocblas", "--dist-amdgpu-families", DIST, "--gha-output"]
    assert main(["configure-stage", *argv]) == 0
    text = output.read_text(encoding="utf-8")
    line = next(v for v in text.split("\n") if v.startswith("-DTHEROCK_ENABLE_ALL") or "DIST" in v)
    assert shlex.split(line) == [
        f"-DTHEROCK_DIST_AMDGPU_FAMILIES={DIST}",
        "-DTHEROCK_ENABLE_ALL=OFF",
        "-DTHEROCK_ENABLE_BLAS=ON",
    ]
    assert "pip_install_cmd" in text and capsys.readouterr().out == ""
    out = tmp_path / "args.txt"
    argv = ["--topology", str(tr.toml_path), "--projects", "rocblas", "--comments"]
    assert main(["configure-stage", *argv, "--output-cmake-args", str(out)]) == 0
    assert (
        out.read_text(encoding="utf-8").splitlines()[0] == "# CMake arguments for projects: rocblas"
    )


# --- project maps from a build directory ------------------------------------------------------------


def test_build_dir_manifest_wins(
    tr: therock.BuildTopology, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "artifact_subprojects.json").write_text(
        json.dumps({"blas": ["myBLAS"], "fft": ["rocFFT"]}), encoding="utf-8"
    )
    assert tr.resolve_projects_to_features(["myblas"], build_dir=build) == {"BLAS"}
    assert tr.resolve_projects_to_features(["myblas"]) == set()
    assert tr.resolve_project_to_artifact("hipblas", build_dir=build) is None
    base = ["configure-stage", "--topology", str(tr.toml_path), "--projects", "myBLAS"]
    assert cli_lines(capsys, *base[1:], "--build-dir", str(build)) == [
        "-DTHEROCK_ENABLE_ALL=OFF",
        "-DTHEROCK_ENABLE_BLAS=ON",
    ]
    assert main(base) == 2
    assert "unknown project 'myBLAS'" in capsys.readouterr().err
    empty = tmp_path / "unconfigured"
    empty.mkdir()
    assert cli_lines(capsys, *base[1:-1], "rocblas", "--build-dir", str(empty))[-1] == (
        "-DTHEROCK_ENABLE_BLAS=ON"
    )
    assert main([*base, "--build-dir", str(tmp_path / "absent")]) == 2
    assert "not a directory" in capsys.readouterr().err


# --- bad input ----------------------------------------------------------------------------------------

BAD = [
    (["--projects", "rocblass"], "unknown project 'rocblass' (nearest: rocblas"),
    (["--projects", "hip,zzzzqq"], "unknown project 'zzzzqq' (no close name)"),
    (["--stage", "mathlibs"], "unknown stage 'mathlibs': did you mean 'math-libs'?"),
    (["--stage", "math-libs", "--projects", "rcl"], "unknown project 'rcl' (nearest: rccl"),
    (["--stage", "math-libs", "--amdgpu-families", "gfx94X-dcgpux"], "unknown GPU family"),
    (["--skip-stages"], "--skip-stages needs --projects"),
    ([], "needs --stage NAME or --projects"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[m.split("'")[0][:30] for _, m in BAD])
def test_bad_input_is_one_line_exit_2(
    tr: therock.BuildTopology, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["configure-stage", "--topology", str(tr.toml_path), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_api_ignores_unknown_projects_as_therock(tr: therock.BuildTopology) -> None:
    assert flags(tr, ["rocblas", "rocblass"]) == flags(tr, ["rocblas"])
    with pytest.raises(ValueError, match=r"Unknown stage: mathlibs \(nearest: math-libs"):
        configure_stage.get_stage_features(tr, "mathlibs")


# --- topology_to_cmake ----------------------------------------------------------------------------------


def test_topology_to_cmake_sections_add_up_to_rockshard_cmake(
    tr: therock.BuildTopology, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = io.StringIO()
    topology_to_cmake.write_cmake_header(stream, "BUILD_TOPOLOGY.toml")
    for write in (
        topology_to_cmake.generate_validation_metadata,
        topology_to_cmake.generate_feature_declarations,
        topology_to_cmake.generate_artifact_targets,
        topology_to_cmake.generate_artifact_group_targets,
        topology_to_cmake.generate_build_stage_targets,
        topology_to_cmake.generate_dependency_variables,
        topology_to_cmake.generate_build_order,
    ):
        write(tr, stream)
    model = load_topology(tr.toml_path)
    whole = cmakegen.generate(model, "therock", "BUILD_TOPOLOGY.toml")
    assert stream.getvalue().rstrip("\n") + "\n" == whole
    assert topology_to_cmake.main(["--topology", str(tr.toml_path), "--validate-only"]) == 0
    assert "successful" in capsys.readouterr().out
    out = tmp_path / "topology.cmake"
    assert topology_to_cmake.main(["--topology", str(tr.toml_path), "--output", str(out)]) == 0
    assert "written" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").split("\n", 2)[2] == whole.split("\n", 2)[2]
    assert topology_to_cmake.main(["--topology", str(tr.toml_path), "--print-graph"]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert set(graph["build_stages"]["math-libs"]["inbound_artifacts"]) == tr.get_inbound_artifacts(
        "math-libs"
    )
