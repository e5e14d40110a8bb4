"""The generated workflows: current, and clean under actionlint and GitHub's JSON schemas."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from action_lib.cli.main import main
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
