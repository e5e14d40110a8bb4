"""``rockshard cmake``: golden output, order independence, real CMake on the generated file.

Set ROCKSHARD_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from action_lib import cmakegen
from action_lib.cli.main import main
from action_lib.errors import InputError
from action_lib.inputs.toml import tomllib
from action_lib.topology import load_topology, parse_topology

GOLDEN = Path(__file__).parent / "golden"
FIXTURE = GOLDEN / "fixture_topology.toml"
UPDATE = os.environ.get("ROCKSHARD_UPDATE_GOLDEN") == "1"

# --- helpers shared with the other CMake tests ------------------------------------------------

# A stand-in for TheRock's cmake/therock_features.cmake, small enough to trust: it fails on a
# feature whose requirement is not declared yet, on a repeated feature and on unknown keywords;
# it prints one line per feature and target for the test to read back.
HARNESS = r"""
cmake_minimum_required(VERSION 3.25)
function(therock_add_feature name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "GROUP;DESCRIPTION;DEFAULT"
    "REQUIRES;DISABLE_PLATFORMS;DISABLE_PROCESSORS")
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_GROUP OR NOT ARG_DESCRIPTION)
    message(FATAL_ERROR "bad declaration of ${name}: ${ARGN}")
  endif()
  if(DEFINED _DECLARED_${name})
    message(FATAL_ERROR "feature declared twice: ${name}")
  endif()
  foreach(req IN LISTS ARG_REQUIRES)
    if(NOT DEFINED _DECLARED_${req})
      message(FATAL_ERROR "feature order error: ${name} requires ${req}, not declared yet")
    endif()
  endforeach()
  set(_DECLARED_${name} ON PARENT_SCOPE)
  list(JOIN ARG_REQUIRES "," req)
  list(JOIN ARG_DISABLE_PLATFORMS "," plat)
  list(JOIN ARG_DISABLE_PROCESSORS "," proc)
  message(STATUS "FEATURE ${name}|${ARG_GROUP}|${req}|${plat}|${proc}|${ARG_DEFAULT}")
endfunction()
function(add_custom_target name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "COMMENT" "DEPENDS")
  list(JOIN ARG_DEPENDS "," deps)
  message(STATUS "TARGET ${name}|${deps}")
endfunction()
include("${GENERATED}")
foreach(var IN LISTS PRINT_VARS)
  list(JOIN ${var} "," value)
  message(STATUS "VAR ${var}=${value}")
endforeach()
"""


def read_raw(path: Path) -> dict[str, Any]:
    """The TOML as plain data, read without rockshard (for independent expectations)."""
    with path.open("rb") as stream:
        data: dict[str, Any] = tomllib.load(stream)
    return data


def feature_of(raw: dict[str, Any], artifact: str) -> str:
    """TheRock's rule, written independently: the override, else NAME with '-' as '_'."""
    body = raw["artifacts"][artifact]
    return str(body.get("feature_name") or artifact.upper().replace("-", "_"))


def shuffle_tables(text: str, seed: int) -> str:
    """The same TOML with its ``[table]`` chunks in a seeded random order."""
    chunks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            chunks.append([])
        chunks[-1].append(line)
    head, tables = chunks[0], chunks[1:]
    random.Random(seed).shuffle(tables)
    body = ["".join(c) if "".join(c).endswith("\n") else "".join(c) + "\n" for c in tables]
    return "".join(head) + "".join(body)


def cmake_exe() -> str:
    """The cmake next to this Python (the venv's), else the one on PATH; skip when none."""
    local = Path(sys.executable).with_name("cmake.exe" if os.name == "nt" else "cmake")
    found = str(local) if local.is_file() else shutil.which("cmake")
    if not found:
        pytest.skip("cmake is not installed")
    return found


def run_harness(
    tmp: Path, generated: str, defines: dict[str, str], variables: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the harness in script mode (``cmake -D... -P``) on a generated include."""
    (tmp / "generated.cmake").write_text(generated, encoding="utf-8")
    (tmp / "harness.cmake").write_text(HARNESS, encoding="utf-8")
    args = [cmake_exe(), f"-DGENERATED={(tmp / 'generated.cmake').as_posix()}"]
    args += [f"-DPRINT_VARS={';'.join(variables)}"] if variables else []
    args += [f"-D{k}={v}" for k, v in defines.items()]
    args += ["-P", str(tmp / "harness.cmake")]
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)


def harness_lines(output: str, kind: str) -> list[list[str]]:
    """The ``-- KIND a|b|c`` lines printed by the harness, split on ``|``."""
    prefix = f"-- {kind} "
    return [
        line[len(prefix) :].split("|") for line in output.splitlines() if line.startswith(prefix)
    ]


def split(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


# --- golden files ------------------------------------------------------------------------------

GOLDEN_CASES = [
    ("own-topology", "BUILD_TOPOLOGY.toml", "therock_own.cmake"),
    ("fixture", "tests/golden/fixture_topology.toml", "therock_fixture.cmake"),
]


@pytest.mark.parametrize(
    ("source", "golden"), [c[1:] for c in GOLDEN_CASES], ids=[c[0] for c in GOLDEN_CASES]
)
def test_golden(repo_root: Path, source: str, golden: str) -> None:
    text = cmakegen.generate(load_topology(repo_root / source), "therock", source=source)
    target = GOLDEN / golden
    if UPDATE:
        target.write_bytes(text.encode("utf-8"))
    assert text == target.read_bytes().decode("utf-8"), (
        f"regenerate with ROCKSHARD_UPDATE_GOLDEN=1 ({golden})"
    )


def test_header_names_the_source_and_is_stable(repo_root: Path) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    first = cmakegen.generate(topology, source="BUILD_TOPOLOGY.toml")
    assert first.startswith("# Generated by rockshard from BUILD_TOPOLOGY.toml: do not edit.\n")
    assert first == cmakegen.generate(topology, source="BUILD_TOPOLOGY.toml")
    assert first.endswith(")\n") and not first.endswith("\n\n")


# --- order independence ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_shuffled_toml_gives_identical_bytes(repo_root: Path, seed: int) -> None:
    for path in (repo_root / "BUILD_TOPOLOGY.toml", FIXTURE):
        text = path.read_text(encoding="utf-8")
        shuffled = shuffle_tables(text, seed)
        assert shuffled != text
        a, _ = parse_topology(text, "T.toml")
        b, findings = parse_topology(shuffled, "T.toml")
        assert findings == []
        assert cmakegen.generate(a, source="T.toml") == cmakegen.generate(b, source="T.toml")


@pytest.mark.therock
@pytest.mark.parametrize("seed", [11, 12], ids=["seed11", "seed12"])
def test_shuffled_therock_gives_identical_bytes(therock_topology_path: Path, seed: int) -> None:
    text = therock_topology_path.read_text(encoding="utf-8")
    a, _ = parse_topology(text, "T.toml")
    b, _ = parse_topology(shuffle_tables(text, seed), "T.toml")
    assert cmakegen.generate(a, source="T.toml") == cmakegen.generate(b, source="T.toml")


def test_long_chain_declared_backwards() -> None:
    n = 3000  # deeper than Python's recursion limit: the order must be iterative
    parts = [
        '[metadata]\nversion = "2.0"\ndescription = "chain"\n[build_stages.s]\nartifact_groups = ["g"]\n[artifact_groups.g]\ntype = "generic"\n'
    ]
    for i in reversed(range(n)):
        deps = f'["a{i - 1}"]' if i else "[]"
        parts.append(f'[artifacts.a{i}]\nartifact_group = "g"\nartifact_deps = {deps}\n')
    topology, findings = parse_topology("".join(parts), "chain.toml")
    assert findings == []
    text = cmakegen.generate(topology, source="chain.toml")
    declared = re.findall(r"^therock_add_feature\((\w+)$", text, flags=re.MULTILINE)
    assert declared == [f"A{i}" for i in range(n)]


def test_cycle_is_an_input_error() -> None:
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "ci_disabled = true", 'ci_disabled = true\nartifact_deps = ["viewer"]'
    )
    topology, _ = parse_topology(text, "T.toml")
    with pytest.raises(InputError, match="cycle"):
        cmakegen.generate(topology, source="T.toml")


def test_unknown_and_missing_dialects(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="did you mean 'therock'"):
        cmakegen.dialect_generator("therok")
    monkeypatch.setitem(sys.modules, "action_lib.cmakegen.rockshard", None)
    with pytest.raises(InputError, match="'rockshard' CMake dialect is not available"):
        cmakegen.dialect_generator("rockshard")


# --- real CMake (script mode) on the generated file ---------------------------------------------


def _check_declarations(raw: dict[str, Any], output: str) -> None:
    """Every artifact declared once, with the right REQUIRES, after all of them."""
    features = harness_lines(output, "FEATURE")
    declared = [f[0] for f in features]
    assert sorted(declared) == sorted(feature_of(raw, a) for a in raw["artifacts"])
    position = {name: i for i, name in enumerate(declared)}
    by_feature = {feature_of(raw, a): body for a, body in raw["artifacts"].items()}
    for name, _group, requires, *_ in features:
        expected = [feature_of(raw, d) for d in by_feature[name].get("artifact_deps", [])]
        assert split(requires) == list(dict.fromkeys(expected)), name
        for req in split(requires):
            assert position[req] < position[name], f"{name} declared before {req}"


@pytest.mark.integration
@pytest.mark.parametrize("case", ["own", "fixture"], ids=["own", "fixture"])
def test_cmake_declares_in_order(repo_root: Path, tmp_path: Path, case: str) -> None:
    path = repo_root / "BUILD_TOPOLOGY.toml" if case == "own" else FIXTURE
    generated = cmakegen.generate(load_topology(path), source=path.name)
    done = run_harness(tmp_path, generated, {"CMAKE_SYSTEM_NAME": "Linux"})
    assert done.returncode == 0, done.stderr
    _check_declarations(read_raw(path), done.stdout)


@pytest.mark.integration
@pytest.mark.therock
@pytest.mark.parametrize(
    "seed", [None, 101, 202, 303], ids=["file-order", "shuffle101", "shuffle202", "shuffle303"]
)
def test_cmake_declares_therock_in_order(
    therock_topology_path: Path, tmp_path: Path, seed: int | None
) -> None:
    text = therock_topology_path.read_text(encoding="utf-8")
    if seed is not None:
        text = shuffle_tables(text, seed)
    topology, findings = parse_topology(text, "BUILD_TOPOLOGY.toml")
    assert findings == []
    done = run_harness(tmp_path, cmakegen.generate(topology), {"CMAKE_SYSTEM_NAME": "Linux"})
    assert done.returncode == 0, done.stderr
    _check_declarations(tomllib.loads(text), done.stdout)


@pytest.mark.integration
def test_cmake_variables_and_targets(tmp_path: Path) -> None:
    raw = read_raw(FIXTURE)
    groups = sorted(raw["artifact_groups"])
    variables = (
        "THEROCK_TOPOLOGY_ARTIFACTS",
        "THEROCK_BUILD_ORDER",
        "THEROCK_ARTIFACT_SPLIT_DATABASES_gpu-kernels",
        *(f"THEROCK_ARTIFACT_GROUP_{a.replace('-', '_')}" for a in raw["artifacts"]),
        *(f"THEROCK_ARTIFACT_TYPE_{a}" for a in raw["artifacts"]),
        *(f"THEROCK_GROUP_ARTIFACTS_{g.replace('-', '_')}" for g in groups),
        *(
            f"THEROCK_STAGE_{s.upper().replace('-', '_')}_{k}"
            for s in raw["build_stages"]
            for k in ("ARTIFACTS", "DEPS")
        ),
    )
    done = run_harness(tmp_path, cmakegen.generate(load_topology(FIXTURE)), {}, variables)
    assert done.returncode == 0, done.stderr
    values = {
        line[0].split("=", 1)[0]: split(line[0].split("=", 1)[1])
        for line in harness_lines(done.stdout, "VAR")
    }
    artifacts = raw["artifacts"]
    assert values["THEROCK_TOPOLOGY_ARTIFACTS"] == sorted(artifacts)
    assert values["THEROCK_ARTIFACT_SPLIT_DATABASES_gpu-kernels"] == ["kdb", "tuning"]
    for name, body in artifacts.items():
        assert values[f"THEROCK_ARTIFACT_GROUP_{name.replace('-', '_')}"] == [
            body["artifact_group"]
        ]
        assert values[f"THEROCK_ARTIFACT_TYPE_{name}"] == [body["type"]]
    for group in groups:
        members = sorted(a for a, b in artifacts.items() if b["artifact_group"] == group)
        assert values[f"THEROCK_GROUP_ARTIFACTS_{group.replace('-', '_')}"] == members
    # Stage APPS builds viewer, win-helper, tracer and fetches what they need, transitively.
    assert values["THEROCK_STAGE_APPS_ARTIFACTS"] == ["tracer", "viewer", "win-helper"]
    assert values["THEROCK_STAGE_APPS_DEPS"] == ["gpu-kernels", "runtime", "zlib"]
    assert values["THEROCK_STAGE_CORE_DEPS"] == []
    order = values["THEROCK_BUILD_ORDER"]
    assert sorted(order) == sorted(raw["build_stages"])
    assert order.index("core") < order.index("gpu-libs") < order.index("apps")
    targets = {t[0]: split(t[1]) for t in harness_lines(done.stdout, "TARGET")}
    assert {f"artifact-{a}" for a in artifacts} <= set(targets)
    for group in groups:
        assert sorted(targets[f"artifact-group-{group}"]) == [
            f"artifact-{a}" for a in values[f"THEROCK_GROUP_ARTIFACTS_{group.replace('-', '_')}"]
        ]
    for stage, body in raw["build_stages"].items():
        assert targets[f"stage-{stage}"] == [f"artifact-group-{g}" for g in body["artifact_groups"]]


FLAG_CASES = [
    # (id, defines, expected return code, expected DISABLE_PLATFORMS of RUNTIME or error text)
    ("linux", {"CMAKE_SYSTEM_NAME": "Linux"}, 0, "windows"),
    ("linux-flag", {"CMAKE_SYSTEM_NAME": "Linux", "THEROCK_FLAG_SHARED_RUNTIME": "ON"}, 0, ""),
    ("windows-off", {"CMAKE_SYSTEM_NAME": "Windows"}, 0, "windows"),
    (
        "windows-flag",
        {
            "CMAKE_SYSTEM_NAME": "Windows",
            "THEROCK_ENABLE_RUNTIME": "ON",
            "THEROCK_FLAG_SHARED_RUNTIME": "ON",
        },
        0,
        "",
    ),
    (
        "windows-no-flag",
        {"CMAKE_SYSTEM_NAME": "Windows", "THEROCK_ENABLE_RUNTIME": "ON"},
        1,
        "RUNTIME can be built on Windows only with -DTHEROCK_FLAG_SHARED_RUNTIME=ON",
    ),
]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("defines", "code", "expected"), [c[1:] for c in FLAG_CASES], ids=[c[0] for c in FLAG_CASES]
)
def test_cmake_conditional_platform_block(
    tmp_path: Path, defines: dict[str, str], code: int, expected: str
) -> None:
    done = run_harness(tmp_path, cmakegen.generate(load_topology(FIXTURE)), defines)
    assert done.returncode == code, done.stderr
    if code:
        assert expected in " ".join(done.stderr.split())
        return
    features = {f[0]: f for f in harness_lines(done.stdout, "FEATURE")}
    assert features["RUNTIME"][3] == expected
    assert features["WIN_HELPER"][3] == "linux"  # platform = "windows"
    assert features["TRACER"][3] == "windows"  # from its group
    assert features["VIEWER"][4] == "aarch64,ppc64le"
    assert features["ZLIB"][5] == "OFF"  # ci_disabled


# --- the command --------------------------------------------------------------------------------


@pytest.fixture
def fixture_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture topology copied into a temporary working directory."""
    shutil.copyfile(FIXTURE, tmp_path / "BUILD_TOPOLOGY.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_writes_then_checks(fixture_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = fixture_copy / "cmake" / "topology.cmake"
    assert main(["cmake", "--output", str(out)]) == 0
    assert "written" in capsys.readouterr().out
    expected = cmakegen.generate(
        load_topology(fixture_copy / "BUILD_TOPOLOGY.toml"), source="BUILD_TOPOLOGY.toml"
    )
    assert out.read_bytes() == expected.encode("utf-8")
    before = out.stat().st_mtime_ns
    assert main(["cmake", "--output", str(out)]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert out.stat().st_mtime_ns == before
    assert main(["cmake", "--output", str(out), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["topology.cmake"]


def test_cli_check_reports_stale_with_a_diff(
    fixture_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = fixture_copy / "topology.cmake"
    assert main(["cmake", "--output", str(out)]) == 0
    out.write_text(
        out.read_text(encoding="utf-8").replace("REQUIRES RUNTIME ZLIB", "REQUIRES ZLIB"),
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["cmake", "--output", str(out), "--check"]) == 1
    captured = capsys.readouterr()
    assert "-  REQUIRES ZLIB\n+  REQUIRES RUNTIME ZLIB\n" in captured.out
    assert captured.out.startswith("---")
    assert captured.err.count("\n") == 1 and "is stale" in captured.err


def test_cli_check_missing_file_is_stale(
    fixture_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cmake", "--output", "absent.cmake", "--check"]) == 1
    assert "+therock_add_feature(ZLIB" in capsys.readouterr().out
    assert not (fixture_copy / "absent.cmake").exists()


def test_cli_stdout_and_relative_source(
    fixture_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cmake", "--topology", str(fixture_copy / "BUILD_TOPOLOGY.toml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Generated by rockshard from BUILD_TOPOLOGY.toml: do not edit.\n")
    assert main(["cmake", "--source", "x/T.toml"]) == 0
    assert "from x/T.toml: do not edit" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cmake", "--check"], "needs --output"),
        (["cmake", "--output", "BUILD_TOPOLOGY.toml/x.cmake"], "cannot write"),
        (["cmake", "--topology", "nope.toml"], "not found"),
    ],
    ids=["check-without-output", "unwritable", "missing-topology"],
)
def test_cli_bad_input_is_one_line_exit_2(
    fixture_copy: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("rockshard: ")
    assert sorted(p.name for p in fixture_copy.iterdir()) == ["BUILD_TOPOLOGY.toml"]


def test_cli_missing_rockshard_dialect(
    fixture_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "action_lib.cmakegen.rockshard", None)
    assert main(["cmake", "--dialect", "rockshard", "--output", "x.cmake"]) == 2
    assert "not available" in capsys.readouterr().err
    assert not (fixture_copy / "x.cmake").exists()
