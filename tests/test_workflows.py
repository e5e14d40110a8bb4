"""The generated workflows: current, and clean under actionlint and GitHub's JSON schemas."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from action_lib.cli.main import main
from action_lib.jobs.replay import act_stubs, remote_actions
from action_lib.pipeline.workflow import WorkflowOptions, generate_workflow

PLATFORMS = ["linux", "windows"]


@pytest.mark.parametrize("platform", PLATFORMS, ids=PLATFORMS)
def test_committed_workflow_is_current(
    repo_root: Path, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_root)
    path = f".github/workflows/rockshard-{platform}.yml"
    assert main(["workflow", "--platform", platform, "--output", path, "--check"]) == 0


def test_check_reports_a_stale_file(
    tmp_path: Path,
    repo_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(repo_root)
    stale = tmp_path / "w.yml"
    stale.write_text(generate_workflow(WorkflowOptions("linux")).replace("wave 3", "wave three"))
    assert main(["workflow", "--platform", "linux", "--output", str(stale), "--check"]) == 1
    captured = capsys.readouterr()
    assert "+" in captured.out and "is stale" in captured.err


def test_generation_is_byte_stable() -> None:
    assert generate_workflow(WorkflowOptions("linux", 8)) == generate_workflow(
        WorkflowOptions("linux", 8)
    )


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.fail(f"{name} is not installed: run make test, which installs the dev extra")
    return found


@pytest.mark.integration
def test_actionlint_finds_nothing(repo_root: Path) -> None:
    files = sorted(str(p) for p in (repo_root / ".github" / "workflows").glob("*.yml"))
    done = subprocess.run(
        [_tool("actionlint"), *files], cwd=repo_root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.integration
def test_workflow_schema(repo_root: Path) -> None:
    files = sorted(str(p) for p in (repo_root / ".github" / "workflows").glob("*.yml"))
    done = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.integration
def test_action_schema(repo_root: Path) -> None:
    files = sorted(str(p) for p in (repo_root / "actions").glob("*/action.yml"))
    assert files
    done = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _load(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@pytest.mark.parametrize("platform", PLATFORMS, ids=PLATFORMS)
def test_credentials_only_in_the_steps_that_talk_to_the_store(platform: str) -> None:
    workflow = _load(generate_workflow(WorkflowOptions(platform)))
    assert "env" not in workflow  # nothing at workflow level
    store_steps = {"setup-stage", "push-stage-artifacts", "assemble-pipeline", "stage-cache"}
    for name, job in workflow["jobs"].items():
        assert not any("AWS" in key for key in job.get("env", {})), name
        for step in job["steps"]:
            uses = str(step.get("uses", ""))
            has_keys = any(k.startswith("AWS_") for k in step.get("env", {}))
            assert has_keys == any(uses.endswith(f"/{s}") for s in store_steps), (name, step)
            if has_keys:
                assert "steps.aws.outputs.aws-access-key-id" in step["env"]["AWS_ACCESS_KEY_ID"]


@pytest.mark.parametrize("platform", PLATFORMS, ids=PLATFORMS)
def test_remote_actions_and_machine_changes_are_skipped_under_act(platform: str) -> None:
    workflow = _load(generate_workflow(WorkflowOptions(platform)))
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            uses = str(step.get("uses", ""))
            remote = uses and not uses.startswith(("./", "actions/checkout@"))
            if remote or str(step.get("name", "")).startswith("Pin"):
                assert "!env.ACT" in str(step.get("if", "")), step
    oidc = [s for j in workflow["jobs"].values() for s in j["steps"] if s.get("id") == "aws"]
    assert oidc and all(s["with"]["output-env-credentials"] is False for s in oidc)
    assert workflow["permissions"]["id-token"] == "write"


def test_run_limits_and_guards() -> None:
    text = generate_workflow(WorkflowOptions("linux", 3))
    workflow = _load(text)
    assert "pull_request" in workflow["concurrency"]["group"]
    assert "github.ref" in workflow["concurrency"]["group"]
    for k in range(3):
        job = workflow["jobs"][f"wave-{k}"]
        guarded = f"(needs.setup.outputs.wave-{k} || '[]')"
        assert job["strategy"]["matrix"]["include"] == f"${{{{ fromJSON{guarded} }}}}"
        assert guarded in job["if"]
        assert job["env"]["SOURCE_DATE_EPOCH"] == "${{ needs.setup.outputs.source-date-epoch }}"
    calls = re.findall(r"fromJSON\(([^)]*)\)", text)
    assert calls and all(c.endswith("|| '[]'") for c in calls)  # every fromJSON is guarded
    setup = workflow["jobs"]["setup"]
    assert setup["timeout-minutes"] <= 360
    assert set(setup["outputs"]) >= {"store", "external-repo", "trusted", "source-date-epoch"}
    assert "\r" not in text


def test_runs_on_a_list_is_a_yaml_list() -> None:
    opts = WorkflowOptions("linux", runs_on=("self-hosted", "linux", "x64 big"))
    text = generate_workflow(opts)
    assert 'runs-on: [self-hosted, linux, "x64 big"]' in text
    assert _load(text)["jobs"]["setup"]["runs-on"] == ["self-hosted", "linux", "x64 big"]
    assert _load(text)["jobs"]["assemble"]["runs-on"] == ["self-hosted", "linux", "x64 big"]


def test_settings_runner_reaches_the_workflow(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(repo_root / "BUILD_TOPOLOGY.toml", tmp_path / "BUILD_TOPOLOGY.toml")
    (tmp_path / "rockshard-pipeline.toml").write_text(
        '[platforms.windows]\nruns-on = ["self-hosted", "windows"]\n', encoding="utf-8"
    )
    argv = [
        "workflow",
        "--platform",
        "windows",
        "--topology",
        str(tmp_path / "BUILD_TOPOLOGY.toml"),
    ]
    assert main([*argv, "--actions", "acme/rockshard@v1"]) == 0
    text = capsys.readouterr().out
    assert "runs-on: [self-hosted, windows]" in text
    assert "uses: acme/rockshard/actions/setup-stage@v1" in text
    assert "uses: ./actions" not in text


def test_windows_pins_its_toolchain_and_linux_does_not() -> None:
    windows = generate_workflow(WorkflowOptions("windows"))
    linux = generate_workflow(WorkflowOptions("linux"))
    assert "vcvars64.bat" in windows and "CC=clang-cl" in windows
    assert "vcvars64.bat" not in linux
    for text in (windows, linux):
        assert 'python-version: "3.12"' in text and '"cmake==' in text


def test_replays_stub_the_remote_actions_skipped_under_act(tmp_path: Path) -> None:
    text = generate_workflow(WorkflowOptions("windows", actions="acme/rockshard@v1"))
    assert remote_actions(text) == [
        "acme/rockshard@v1",
        "actions/setup-python@v6",
        "actions/upload-artifact@v6",
        "aws-actions/configure-aws-credentials@v6",
    ]
    given = {"acme/rockshard@v1": tmp_path / "checkout"}
    mappings = act_stubs(text, tmp_path / "stubs", given)
    assert mappings["acme/rockshard@v1"] == tmp_path / "checkout"  # given ones are kept
    stub = _load((mappings["actions/setup-python@v6"] / "action.yml").read_text())
    assert stub["runs"]["using"] == "composite"
    assert "exit 1" in stub["runs"]["steps"][0]["run"]  # a step that runs a stub fails
