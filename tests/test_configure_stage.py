"""``rockshard configure-stage``: the -D arguments of a stage, checked against an independent
reading of the TOML and, for TheRock, against CMake itself."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from action_lib import cmakegen
from action_lib.cli.main import main
from action_lib.cmakegen import stage_args
from action_lib.errors import InputError
from action_lib.topology import Conditions, load_topology
from tests.test_cmakegen import FIXTURE, feature_of, read_raw, run_harness

PLATFORMS = ("linux", "windows")

# -- an independent model of "which features does a stage need" ------------------------------


def raw_enabled(
    raw: dict[str, Any], name: str, platform: str, processor: str | None, flags: set[str]
) -> bool:
    body = raw["artifacts"][name]
    group = raw["artifact_groups"].get(body["artifact_group"], {})
    if body.get("platform") not in (None, platform):
        return False
    if platform in body.get("disable_platforms", []) or platform in group.get(
        "disable_platforms", []
    ):
        return False
    flag = body.get("disable_platforms_if_flags_not_set", {}).get(platform)
    if flag is not None and flag not in flags:
        return False
    return processor not in body.get("disable_processors", [])


def raw_features(
    raw: dict[str, Any],
    stage: str,
    platform: str,
    processor: str | None = None,
    flags: frozenset[str] = frozenset(),
) -> list[str]:
    enabled = {a for a in raw["artifacts"] if raw_enabled(raw, a, platform, processor, set(flags))}
    groups = set(raw["build_stages"][stage]["artifact_groups"])
    produced = {a for a in enabled if raw["artifacts"][a]["artifact_group"] in groups}
    needed: set[str] = set()
    todo = list(produced)
    while todo:  # transitive deps through enabled artifacts only
        for dep in raw["artifacts"][todo.pop()].get("artifact_deps", []):
            if dep in enabled and dep not in needed:
                needed.add(dep)
                todo.append(dep)
    return sorted({feature_of(raw, a) for a in produced | needed})


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main([*argv, "--format", "json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


# -- the repository's own topology and the fixture ----------------------------------------------

OWN_CASES = [
    (stage, platform, processor)
    for stage in ("foundation", "compiler-runtime", "math-libs", "comm-libs", "tools", "ml-libs")
    for platform, processor in (("linux", "x86_64"), ("windows", "x86_64"), ("linux", "aarch64"))
]


@pytest.mark.parametrize(
    ("stage", "platform", "processor"), OWN_CASES, ids=["-".join(c) for c in OWN_CASES]
)
def test_own_topology_features(
    repo_root: Path, capsys: pytest.CaptureFixture[str], stage: str, platform: str, processor: str
) -> None:
    path = repo_root / "BUILD_TOPOLOGY.toml"
    argv = ["configure-stage", "--topology", str(path), "--stage", stage, "--platform", platform]
    data = run_json([*argv, "--processor", processor], capsys)
    expected = raw_features(read_raw(path), stage, platform, processor)
    assert data["features"] == expected
    assert data["cmake_args"] == [
        "-DTHEROCK_ENABLE_ALL=OFF",
        *(f"-DTHEROCK_ENABLE_{f}=ON" for f in expected),
    ]


FIXTURE_CASES = [
    # (id, arguments, features that must be on, features that must be off)
    (
        "linux",
        ["--platform", "linux", "--processor", "x86_64"],
        {"VIEWER", "RUNTIME", "TRACER"},
        {"WIN_HELPER"},
    ),
    (
        "windows",
        ["--platform", "windows", "--processor", "x86_64"],
        {"VIEWER", "WIN_HELPER"},
        {"RUNTIME", "TRACER"},
    ),
    (
        "windows-flag",
        ["--platform", "windows", "--processor", "x86_64", "--flag", "SHARED_RUNTIME"],
        {"RUNTIME", "WIN_HELPER"},
        {"TRACER"},
    ),
    (
        "aarch64",
        ["--platform", "linux", "--processor", "aarch64"],
        {"TRACER", "RUNTIME"},
        {"VIEWER"},
    ),
]


@pytest.mark.parametrize(
    ("extra", "on", "off"), [c[1:] for c in FIXTURE_CASES], ids=[c[0] for c in FIXTURE_CASES]
)
def test_fixture_conditions(
    capsys: pytest.CaptureFixture[str], extra: list[str], on: set[str], off: set[str]
) -> None:
    data = run_json(
        ["configure-stage", "--topology", str(FIXTURE), "--stage", "apps", *extra], capsys
    )
    assert on <= set(data["features"]) and not off & set(data["features"])
    conditions = Conditions(data["platform"], data["processor"], frozenset(data["flags"]))
    assert data["features"] == raw_features(
        read_raw(FIXTURE), "apps", conditions.platform or "", conditions.processor, conditions.flags
    )
    assert data["python_requires"] == ["-r requirements-viewer.txt", "numpy"]


def test_argument_order_and_dialects(capsys: pytest.CaptureFixture[str]) -> None:
    base = [
        "configure-stage",
        "--topology",
        str(FIXTURE),
        "--stage",
        "gpu-libs",
        "--platform",
        "linux",
    ]
    families = [
        "--amdgpu-families",
        "gfx94X-dcgpu",
        "--dist-amdgpu-families",
        "gfx94X-dcgpu,gfx110X-all",
    ]
    assert main([*base, *families]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "-DTHEROCK_AMDGPU_FAMILIES=gfx94X-dcgpu",
        "-DTHEROCK_DIST_AMDGPU_FAMILIES=gfx94X-dcgpu;gfx110X-all",
        "-DTHEROCK_ENABLE_ALL=OFF",
        "-DTHEROCK_ENABLE_KERNELS=ON",
        "-DTHEROCK_ENABLE_RUNTIME=ON",
        "-DTHEROCK_ENABLE_ZLIB=ON",
    ]
    assert main([*base, *families, "--dialect", "rockshard"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        line.replace("-DTHEROCK_", "-DROCKSHARD_") for line in lines
    ]


def test_output_file_and_gha_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    github_output = tmp_path / "github_output"
    github_output.write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output))
    args_file = tmp_path / "out" / "stage_args.txt"
    argv = [
        "configure-stage",
        "--topology",
        str(FIXTURE),
        "--stage",
        "apps",
        "--platform",
        "linux",
        "--processor",
        "x86_64",
    ]
    argv += [
        "--dist-amdgpu-families",
        "gfx94X-dcgpu;gfx110X-all",
        "--output-cmake-args",
        str(args_file),
        "--gha-output",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    written = args_file.read_text(encoding="utf-8").splitlines()
    assert written[0] == "-DTHEROCK_DIST_AMDGPU_FAMILIES=gfx94X-dcgpu;gfx110X-all"
    outputs = parse_github_output(github_output.read_text(encoding="utf-8"))
    assert shlex.split(outputs["cmake_args"]) == written  # one shell-safe line, ';' quoted
    assert "\n" not in outputs["cmake_args"]
    assert outputs["pip_install_cmd"] == "-r requirements-viewer.txt numpy"
    assert outputs["features"].split() == [
        a.removeprefix("-DTHEROCK_ENABLE_").removesuffix("=ON") for a in written[2:]
    ]


def parse_github_output(text: str) -> dict[str, str]:
    """Read GITHUB_OUTPUT's ``name<<DELIM`` / ``name=value`` records, as the runner does."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for item in lines:
                if item == delimiter:
                    break
                value.append(item)
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            out[name] = value_text
    return out


def test_list_stages(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo_root / "BUILD_TOPOLOGY.toml"
    argv = ["configure-stage", "--topology", str(path), "--list-stages", "--platform", "linux"]
    data = run_json([*argv, "--processor", "x86_64"], capsys)
    raw = read_raw(path)
    assert sorted(s["name"] for s in data["stages"]) == sorted(raw["build_stages"])
    for row in data["stages"]:
        assert row["type"] == raw["build_stages"][row["name"]].get("type", "generic")
        assert row["groups"] == len(raw["build_stages"][row["name"]]["artifact_groups"])
        assert row["produced"] + row["inbound"] == len(
            raw_features(raw, row["name"], "linux", "x86_64")
        )
    assert main(["configure-stage", "--topology", str(path), "--list-stages"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == [
        "stage",
        "type",
        "groups",
        "produced",
        "inbound",
        "description",
    ]
    assert "math-libs" in text and "per-arch" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stage", "mathlibs"], "unknown stage 'mathlibs': did you mean 'math-libs'?"),
        (["--stage", "math-libs", "--amdgpu-families", "gfx94X-dcgpu;notafamily"], "notafamily"),
        ([], "needs --stage"),
        (
            ["--stage", "math-libs", "--output-cmake-args", "BUILD_TOPOLOGY.toml/args.txt"],
            "cannot write",
        ),
    ],
    ids=["unknown-stage", "unknown-family", "no-stage", "unwritable-output"],
)
def test_bad_input_is_one_line_exit_2(
    repo_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(repo_root)
    assert main(["configure-stage", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rockshard: ") and message in err


def test_unknown_platform_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "configure-stage",
                "--topology",
                str(FIXTURE),
                "--stage",
                "apps",
                "--platform",
                "macos",
            ]
        )
        == 2
    )
    assert "invalid choice: 'macos'" in capsys.readouterr().err


def test_library_api(repo_root: Path) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    config = stage_args.stage_config(topology, "tools", Conditions("windows"))
    assert "ccl" not in config.inbound and "kinfo" in config.produced
    with pytest.raises(InputError, match="did you mean 'tools'"):
        stage_args.stage_config(topology, "tool")
    with pytest.raises(InputError, match="unknown CMake dialect"):
        stage_args.cmake_args(config, dialect="cmake")


# -- TheRock: the arguments are closed under REQUIRES, as CMake sees it ---------------------------


@pytest.mark.therock
@pytest.mark.parametrize("platform", PLATFORMS, ids=PLATFORMS)
def test_therock_features_are_closed_under_requires(
    therock_topology_path: Path, platform: str
) -> None:
    raw = read_raw(therock_topology_path)
    topology = load_topology(therock_topology_path)
    for stage in raw["build_stages"]:
        features = set(stage_args.stage_features(topology, stage, Conditions(platform, "x86_64")))
        assert sorted(features) == raw_features(raw, stage, platform, "x86_64"), stage
        for name in raw["artifacts"]:
            if feature_of(raw, name) in features:
                for dep in raw["artifacts"][name].get("artifact_deps", []):
                    if raw_enabled(raw, dep, platform, "x86_64", set()):
                        assert feature_of(raw, dep) in features, (stage, name, dep)


# TheRock's own rules, for CMake to apply: a feature is on only when the stage's arguments say so
# (ENABLE_ALL=OFF), a feature on where it is disabled is an error, and a feature on with a
# requirement off (one not disabled here) would be "implicitly enabled": reported, then checked.
CLOSURE_HARNESS = r"""
function(therock_add_feature name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "GROUP;DESCRIPTION;DEFAULT"
    "REQUIRES;DISABLE_PLATFORMS;DISABLE_PROCESSORS")
  string(TOLOWER "${CMAKE_SYSTEM_NAME}" system)
  set(THEROCK_PLATFORM_DISABLED_${name} "${ARG_DISABLE_PLATFORMS}" PARENT_SCOPE)
  set(enabled OFF)
  if(THEROCK_ENABLE_${name})
    set(enabled ON)
  endif()
  if(enabled AND system IN_LIST ARG_DISABLE_PLATFORMS)
    message(FATAL_ERROR "${name} is not supported on ${CMAKE_SYSTEM_NAME}")
  endif()
  foreach(req IN LISTS ARG_REQUIRES)
    if(enabled AND NOT THEROCK_ENABLE_${req} AND NOT system IN_LIST THEROCK_PLATFORM_DISABLED_${req})
      message(STATUS "IMPLICIT ${req}|${name}")
    endif()
  endforeach()
endfunction()
"""


@pytest.mark.integration
@pytest.mark.therock
@pytest.mark.parametrize("platform", PLATFORMS, ids=PLATFORMS)
def test_therock_stage_args_need_no_implicit_features(
    therock_topology_path: Path, tmp_path: Path, platform: str
) -> None:
    topology = load_topology(therock_topology_path)
    generated = CLOSURE_HARNESS + cmakegen.generate(topology)  # replaces the plain harness's
    for stage in topology.build_stages:
        config = stage_args.stage_config(topology, stage, Conditions(platform, "x86_64"))
        defines = {"CMAKE_SYSTEM_NAME": platform.capitalize()}
        for arg in stage_args.cmake_args(config):
            name, value = arg.removeprefix("-D").split("=", 1)
            defines[name] = value
        done = run_harness(tmp_path, generated, defines)
        assert done.returncode == 0, (stage, done.stderr)
        assert "-- IMPLICIT" not in done.stdout, (stage, done.stdout)
