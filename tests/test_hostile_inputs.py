"""The hostile-input suite (issue 16), loaders: the topology, pipeline settings, `.gitmodules`,
artifact descriptors and store settings, fed names with newlines, ``::``, ``%0A``, NUL, ``..``,
absolute paths, drive letters, reserved Windows names, 4,096-character names and undecodable
bytes. Asserted for each input: no traceback, no line of output a runner would run as a
workflow command, a finding wherever a rule refuses the value. Counts per entry point are
printed at the end (``tally``). The other entry points: test_hostile_api.py,
test_hostile_store.py, test_hostile_git.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from action_lib.errors import FindingsError
from action_lib.inputs.paths import (
    commit_problems,
    origin_problems,
    relative_path_problems,
)
from action_lib.pipeline.config import parse_pipeline_config
from action_lib.pipeline.matrix import plan_markdown, plan_pipeline
from action_lib.topology import Conditions
from action_lib.topology.loader import check_topology_text, parse_topology
from tests.hostile import (
    QUICK,
    SHA,
    SOAK,
    Tally,
    actions_env,
    check_run,
    check_text,
    escape_line,
    hostile_text,
    run_cli,
    tally,
)
from tests.topologies import MINIMAL

__all__ = ["tally"]  # the fixture, used by name

REPO = Path(__file__).resolve().parent.parent


# --- topology loader and validate --------------------------------------------------------------

EXTERNAL = (
    '[source_sets.core]\ndescription = "core sources"\nsubmodules = ["core-src"]\n'
    "external_git_sources = [{ name = NAME, origin = ORIGIN, commit = COMMIT, path = PATH }]\n"
)
SLOTS: dict[str, tuple[str, str, Callable[[str], list[str]]]] = {
    "path-prefix": ('path_prefixes = ["math"]', "path_prefixes = [V]", relative_path_problems),
    "submodule": ('submodules = ["core-src"]', "submodules = [V]", relative_path_problems),
    "external-origin": ("", "ORIGIN", origin_problems),
    "external-path": ("", "PATH", relative_path_problems),
    "external-commit": ("", "COMMIT", commit_problems),
    "external-name": ("", "NAME", lambda v: [] if v == "ext" else ["not an entity name"]),
    "stage-name": ("[build_stages.first]", "[build_stages.V]", lambda v: ["renamed"]),
    "artifact-name": ("[artifacts.beta]", "[artifacts.V]", lambda v: ["renamed"]),
}


def _toml(value: str) -> str:
    return json.dumps(value)  # a TOML basic string (an undecodable byte stays an escape)


def topology_with(slot: str, value: str) -> str:
    """MINIMAL with ``value`` in ``slot``."""
    old, new, _ = SLOTS[slot]
    if slot.startswith("external-"):
        fields = {"NAME": '"ext"', "ORIGIN": '"https://example.com/ext.git"'}
        fields |= {"COMMIT": f'"{SHA}"', "PATH": '"optional-sources/ext"'}
        fields[new] = _toml(value)
        block = EXTERNAL
        for key, text in fields.items():
            block = block.replace(f"= {key}", f"= {text}")
        start = MINIMAL.index("[source_sets.core]")
        end = MINIMAL.index("[source_sets.math]")
        return MINIMAL[:start] + block + "\n" + MINIMAL[end:]
    return MINIMAL.replace(old, new.replace("V", _toml(value)), 1)


@QUICK
@given(st.sampled_from(sorted(SLOTS)), hostile_text(4), st.booleans())
def test_topology_loader(
    tally: Tally, tmp_path_factory: Any, slot: str, value: str, gha: bool
) -> None:
    count = tally["topology loader + validate"]
    count.inputs += 1
    text = topology_with(slot, value)
    _, findings = check_topology_text(text, "T.toml")  # raises nothing, whatever the input
    count.findings += len(findings)
    if SLOTS[slot][2](value):
        assert findings, (slot, value)
    tmp = tmp_path_factory.mktemp("topo")
    path = tmp / "BUILD_TOPOLOGY.toml"
    path.write_text(text, encoding="utf-8")
    env = actions_env(tmp) if gha else {}
    ran = run_cli(["topology", "validate", "--topology", str(path)], env)
    assert ran.code == (2 if findings else 0)
    check_run(count, ran, in_actions=gha)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"\x00", b'[metadata]\nversion = "\xc3\x28"\n'])
def test_topology_file_with_undecodable_bytes(tally: Tally, tmp_path: Path, raw: bytes) -> None:
    count = tally["topology loader + validate"]
    count.inputs += 1
    path = tmp_path / "BUILD_TOPOLOGY.toml"
    path.write_bytes(MINIMAL.encode() + raw)
    ran = run_cli(["topology", "validate", "--topology", str(path)])
    assert ran.code == 2
    count.findings += 1
    check_run(count, ran)


def test_the_issues_topology_is_refused_with_every_finding(tmp_path: Path) -> None:
    text = topology_with("external-origin", "--upload-pack=touch /tmp/pwned")
    text = text.replace('path_prefixes = ["math"]', 'path_prefixes = ["/etc", "../up"]')
    text = text.replace('"optional-sources/ext"', '"optional-sources/../../x"')
    text = text.replace('submodules = ["math-src"]', 'submodules = ["../../x"]')
    messages = [f.message for f in check_topology_text(text, "T.toml")[1]]
    for fragment in (
        "origin '--upload-pack=touch /tmp/pwned' starts with '-'",
        "path prefix '/etc' is absolute",
        "path prefix '../up' leaves the repository",
        "path 'optional-sources/../../x' leaves the repository",
        "submodule name '../../x' leaves its root",
    ):
        assert any(fragment in m for m in messages), (fragment, messages)


# --- pipeline settings loader and the matrix summary ---------------------------------------------


@QUICK
@given(hostile_text(3), hostile_text(2))
def test_pipeline_settings(tally: Tally, label: str, stage: str) -> None:
    count = tally["pipeline settings + plan summary"]
    count.inputs += 1
    text = f"[defaults]\nruns-on = {_toml(label)}\n[stages.{_toml(stage)}]\ntimeout-minutes = 5\n"
    topology, _ = parse_topology(MINIMAL)
    try:
        config = parse_pipeline_config(text, "P.toml", tuple(topology.build_stages))
    except FindingsError as exc:
        count.findings += len(exc.findings)
        check_text(count, *(escape_line(f.format()) for f in exc.findings))
        return
    plan = plan_pipeline(topology, Conditions("linux"), ("gfx94X-dcgpu",), config)
    check_text(count, plan_markdown(plan))
    assert all(e.runs_on == label for wave in plan.waves for e in wave)


def test_matrix_with_hostile_settings_writes_a_safe_summary(tally: Tally, tmp_path: Path) -> None:
    count = tally["pipeline settings + plan summary"]
    count.inputs += 1
    topo = tmp_path / "BUILD_TOPOLOGY.toml"
    topo.write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "rockshard-pipeline.toml").write_text(
        '[defaults]\nruns-on = "x\\n::add-mask::PWN"\n', encoding="utf-8"
    )
    env = actions_env(tmp_path)
    args = ["matrix", "--topology", str(topo), "--platform", "linux"]
    ran = run_cli([*args, "--amdgpu-families", "gfx94X-dcgpu", "--gha-output"], env)
    assert ran.code == 2 and "error[label]" in ran.err
    count.findings += 1
    check_run(count, ran, in_actions=True, summary=(tmp_path / "summary.md").read_text())


@pytest.mark.parametrize(
    "flags",
    [
        ["--run-id", "../../x"],
        ["--run-id", "1\n::add-mask::PWN"],
        ["--store", "s3://Bad_Bucket/x"],
        ["--store", "s3://bucket/../x"],
        ["--store", "ftp://host/x"],
        ["--store", "/tmp/a\nb"],
        ["--endpoint-url", "javascript:alert(1)"],
        ["--external-repo", "../x"],
    ],
    ids=[
        "run-dotdot",
        "run-newline",
        "bucket",
        "prefix-dotdot",
        "scheme",
        "dir-newline",
        "endpoint",
        "repo",
    ],
)
def test_store_settings_are_checked(tally: Tally, tmp_path: Path, flags: list[str]) -> None:
    count = tally["store names + settings"]
    count.inputs += 1
    topo = tmp_path / "BUILD_TOPOLOGY.toml"
    topo.write_text(MINIMAL, encoding="utf-8")
    args = ["artifacts", "ls", "--topology", str(topo), "--platform", "linux"]
    ran = run_cli([*args, "--local-staging-dir", str(tmp_path / "store"), *flags])
    assert ran.code == 2, ran.err
    count.findings += 1
    check_run(count, ran)


def test_gitmodules_and_descriptors_refuse_paths_that_leave(tally: Tally) -> None:
    from action_lib.artifacts.descriptor import parse_descriptor
    from action_lib.sources.gitmodules import parse_gitmodules

    count = tally["store names + settings"]
    count.inputs += 3
    with pytest.raises(FindingsError) as caught:
        parse_gitmodules('[submodule "../../x"]\n\tpath = ../x\n\turl = --upload-pack=x\n')
    codes = sorted(f.code for f in caught.value.findings)
    assert codes == ["unsafe-name", "unsafe-path", "unsafe-url"], codes
    text = '[components.lib."stage\\n::error::x"]\ninclude = ["a\\u0000b", "..\\\\up/*", "C:/x"]\n'
    _, findings = parse_descriptor(text, "artifact.toml", "x")
    messages = [f.message for f in findings]
    assert any("control" in m for m in messages) and any("'..'" in m for m in messages), messages
    count.findings += len(codes) + len(findings)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("untrusted", "s3://bucket/../trusted"),
        ("untrusted", "s3://bucket/x\n::add-mask::PWN"),
        ("trusted", "/srv/store\r::error::PWN"),
        ("endpoint-url", "javascript:alert(1)"),
        ("region", "us-east-1; rm -rf /"),
        ("trusted-role", "${{ secrets.PWN }}"),
    ],
    ids=["dotdot", "newline", "dir-cr", "endpoint", "region", "role"],
)
def test_store_table_values_are_checked(tally: Tally, key: str, value: str) -> None:
    count = tally["pipeline settings + plan summary"]
    count.inputs += 1
    with pytest.raises(FindingsError) as caught:
        parse_pipeline_config(f"[store]\n{key} = {_toml(value)}\n", "P.toml")
    assert [f.code for f in caught.value.findings] == ["value"] * len(caught.value.findings)
    count.findings += len(caught.value.findings)
    check_text(count, *(escape_line(f.format()) for f in caught.value.findings))


# --- the soak (pytest --slow) ---


@pytest.mark.slow
@SOAK
@given(st.sampled_from(sorted(SLOTS)), hostile_text(6))
def test_soak_topology(tally: Tally, slot: str, value: str) -> None:
    count = tally["soak: topology loader"]
    count.inputs += 1
    _, findings = check_topology_text(topology_with(slot, value), "T.toml")
    count.findings += len(findings)
    check_text(count, *(escape_line(f.format()) for f in findings))
