"""In GitHub Actions: inputs read, outputs set, a job summary table, failures annotated."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.topology import load_topology
from tests.artifact_helpers import build_stage, stage_dir_of


@pytest.fixture
def actions_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    files = {"output": tmp_path / "github_output", "summary": tmp_path / "summary.md"}
    for f in files.values():
        f.write_text("")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("THEROCK_LOCAL_STAGING_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("THEROCK_RUN_ID", raising=False)
    monkeypatch.setenv("GITHUB_RUN_ID", "321")
    return files


def outputs(path: Path) -> dict[str, str]:
    """Parse GITHUB_OUTPUT (``name<<delimiter`` blocks, or ``name=value`` lines)."""
    lines = path.read_text().splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            name, delimiter = lines[i].split("<<", 1)
            end = lines.index(delimiter, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, _, value = lines[i].partition("=")
            out[name] = value
            i += 1
    return out


def test_push_then_fetch_from_inputs(
    actions_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    repo_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    build = tmp_path / "build"
    build_stage(build, topology, "foundation")
    for name, value in {
        "STAGE": "foundation",
        "BUILD_DIR": str(build),
        "PLATFORM": "linux",
        "TOPOLOGY": str(repo_root / "BUILD_TOPOLOGY.toml"),
        "AMDGPU_FAMILY": "",
    }.items():
        monkeypatch.setenv(f"INPUT_{name}", value)
    assert main(["artifacts", "push", "--gha"]) == 0
    pushed = outputs(actions_env["output"])
    assert int(pushed["count"]) == len(pushed["artifacts"].split()) > 0
    assert int(pushed["bytes"]) > 0
    assert pushed["store-url"] == str(tmp_path / "store" / "321-linux")
    summary = actions_env["summary"].read_text()
    assert "| archive | size | status | sha256 |" in summary
    assert "`base_lib_generic.tar.zst`" in summary

    actions_env["output"].write_text("")
    monkeypatch.delenv("INPUT_BUILD_DIR")
    monkeypatch.setenv("INPUT_STAGE", "compiler-runtime")
    monkeypatch.setenv("INPUT_OUTPUT_DIR", str(tmp_path / "next"))
    monkeypatch.setenv("INPUT_BOOTSTRAP", "true")
    assert main(["artifacts", "fetch", "--gha"]) == 0
    fetched = outputs(actions_env["output"])
    assert fetched["artifacts"] == pushed["artifacts"]
    assert (tmp_path / "next" / f"{stage_dir_of(topology, 'base')}.prebuilt").is_file()

    monkeypatch.setenv("INPUT_STAGE", "ml-libs")  # per-arch, fetches per-arch artifacts
    capsys.readouterr()
    assert main(["artifacts", "fetch", "--gha"]) == 2
    captured = capsys.readouterr()
    assert "::error::" in captured.out and "--amdgpu-family" in captured.out
    assert "rockshard: stage 'ml-libs' is per-arch" in captured.err
