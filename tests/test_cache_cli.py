"""``rockshard cache key|explain|ls|prune`` and ``matrix --cache`` on real git repositories:
keys from full, treeless and sparse clones, bad input, explain's words."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from action_lib.cache.lookup import write_record
from action_lib.cache.records import ArchiveRef, CacheRecord
from action_lib.cli.main import main
from action_lib.stores.local import LocalStore
from action_lib.topology import load_topology
from tests.fixtures.gitrepos import commit_all, git, make_repo, url, use_git_env
from tests.test_cache_flow import sources

pytestmark = pytest.mark.integration  # git

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_git_env(monkeypatch)
    monkeypatch.delenv("GITHUB_EVENT_NAME", raising=False)
    monkeypatch.delenv("ROCKSHARD_CACHE", raising=False)
    path = tmp_path / "repo"
    make_repo(path, sources(load_topology(REPO / "BUILD_TOPOLOGY.toml")))
    git(path, "config", "uploadpack.allowFilter", "true")
    return path


def key_json(
    capsys: pytest.CaptureFixture[str],
    repo: Path,
    stage: str,
    *extra: str,
    topology: Path | None = None,
) -> dict[str, Any]:
    topo = topology or repo / "BUILD_TOPOLOGY.toml"
    argv = ["cache", "key", "--stage", stage, "--platform", "linux", "--repo", str(repo)]
    argv += ["--topology", str(topo), "--format", "json", *extra]
    assert main(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_key_json_and_what_changes_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tools = key_json(capsys, repo, "tools")
    assert set(tools) == {"stage", "family", "key", "inputs"}
    assert re.fullmatch(r"[0-9a-f]{64}", tools["key"])
    assert tools["inputs"]["source:src/tools/"] == git(repo, "rev-parse", "HEAD:src/tools")
    assert tools["inputs"]["input:cmake/"] == git(repo, "rev-parse", "HEAD:cmake")
    math = key_json(capsys, repo, "math-libs", "--amdgpu-family", "gfx94X-dcgpu")
    assert math["family"] == "gfx94X-dcgpu"
    foundation = key_json(capsys, repo, "foundation")
    (repo / "src/tools/main.c").write_text("/* changed */\n", encoding="utf-8")
    # Uncommitted: the checkout's key moves, HEAD's (--committed) does not.
    assert key_json(capsys, repo, "tools")["key"] != tools["key"]
    assert key_json(capsys, repo, "tools", "--committed")["key"] == tools["key"]
    commit_all(repo, "tools")
    assert key_json(capsys, repo, "tools", "--committed")["key"] != tools["key"]
    assert key_json(capsys, repo, "foundation")["key"] == foundation["key"]
    again = key_json(capsys, repo, "math-libs", "--amdgpu-family", "gfx94X-dcgpu")
    assert again["key"] == math["key"]


@pytest.mark.parametrize(
    "options",
    [
        ["--filter=tree:0", "--depth", "1", "--no-checkout"],
        ["--filter=tree:0", "--depth", "1", "--sparse"],
        ["--filter=blob:none", "--depth", "1"],
    ],
    ids=["treeless", "treeless-sparse", "blobless-shallow"],
)
def test_keys_from_partial_clones_equal_the_full_ones(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str]
) -> None:
    full = {s: key_json(capsys, repo, s)["key"] for s in ("foundation", "tools")}
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", *options, url(repo), str(clone))
    topology = repo / "BUILD_TOPOLOGY.toml"  # a --no-checkout clone has no files
    extra = ["--config", str(repo / "rockshard-pipeline.toml")]
    got = {s: key_json(capsys, clone, s, *extra, topology=topology)["key"] for s in full}
    assert got == full


def test_unreadable_inputs_exit_2_naming_them(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = repo / "rockshard-pipeline.toml"
    settings.write_text('[inputs]\nevery-stage = ["cmake/", "gone/"]\n', encoding="utf-8")
    argv = ["cache", "key", "--stage", "tools", "--platform", "linux", "--repo", str(repo)]
    argv += ["--topology", str(repo / "BUILD_TOPOLOGY.toml")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{settings}:2: error[cache-input]: key input every-stage path 'gone/'" in err
    assert "Traceback" not in err
    argv = ["cache", "key", "--stage", "math-libs", "--platform", "linux", "--repo", str(repo)]
    assert main([*argv, "--topology", str(repo / "BUILD_TOPOLOGY.toml")]) == 2
    assert "is per-arch: give --amdgpu-family" in capsys.readouterr().err


def record_for(
    key: dict[str, Any], record_key: str, run: str, created: str, changed: dict[str, str]
) -> CacheRecord:
    """A record of the tools job under ``record_key``, its inputs ``key``'s but ``changed``."""
    return CacheRecord(
        stage=key["stage"],
        family=key["family"],
        platform="linux",
        key=record_key,
        content_key=record_key[::-1],
        run=run,
        commit="1" * 40,
        created=created,
        archives={"smi_run_generic.tar.zst": ArchiveRef("2" * 64, 3)},
        inputs={**key["inputs"], **changed},
    )


def test_explain_ls_and_prune(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = key_json(capsys, repo, "tools")
    store = LocalStore(tmp_path / "store")
    old = {"source:src/tools/": "9" * 40}
    far = record_for(
        key,
        "e" * 63 + "1",
        "6-linux",
        "2020-01-01T00:00:00+00:00",
        {**old, "input:cmake/": "8" * 40},
    )
    near = record_for(key, "d" * 63 + "2", "7-linux", "2026-01-02T00:00:00+00:00", old)
    write_record(store, far)
    write_record(store, near)
    base = ["--repo", str(repo), "--topology", str(repo / "BUILD_TOPOLOGY.toml")]
    argv = ["cache", "explain", "--stage", "tools", "--platform", "linux", *base]
    assert main([*argv, "--store", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert "nearest: run 7-linux" in out and "1 input(s) differ" in out, out
    current = key["inputs"]["source:src/tools/"]
    assert f"src/tools/: tree {'9' * 12} -> {current[:12]}" in out, out
    assert main([*argv, "--store", str(store.root), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "miss" and data["nearest"]["run"] == "7-linux"
    assert [c["input"] for c in data["changes"]] == ["source:src/tools/"]
    assert main(["cache", "ls", "--store", str(store.root), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["records"]
    assert sorted((r["run"], r["kind"]) for r in listed) == [
        ("6-linux", "content"),
        ("6-linux", "static"),
        ("7-linux", "content"),
        ("7-linux", "static"),
    ]
    assert main(["cache", "prune", "--older-than", "365", "--store", str(store.root)]) == 0
    assert "removed 2 record(s)" in capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "store" / "cache").iterdir())
    assert names == sorted(
        f"tools_generic_{k}.json" for k in (near.key, near.content_key, "latest")
    )


def test_matrix_with_the_cache_lists_every_job(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["matrix", "--platform", "linux", "--amdgpu-families", "gfx94X-dcgpu"]
    argv += ["--topology", str(repo / "BUILD_TOPOLOGY.toml"), "--repo", str(repo)]
    argv += ["--cache", "read", "--store", str(tmp_path / "store"), "--run-id", "9"]
    assert main([*argv, "--format", "json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert [(j["stage"], j["outcome"]) for j in data["cache"]] == [
        ("foundation", "build"),
        ("compiler-runtime", "build"),
        ("comm-libs", "build"),
        ("math-libs", "build"),
        ("ml-libs", "build"),
        ("tools", "build"),
    ]
    assert {j["reason"] for j in data["cache"]} == {"no record of this job yet"}
    assert sum(len(w) for w in data["waves"]) == 6
    assert "stage cache (read): 0 of 6 job(s) reused" in captured.err
    assert (tmp_path / "store" / "9-linux" / "rockshard-cache-plan.json").is_file()
