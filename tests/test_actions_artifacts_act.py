"""act replays a push job and a fetch job (needs: push) using the two composite actions.

Host mode (``-P ubuntu-latest=-self-hosted``): act's ``actions/checkout`` copies the workflow's
repository, so the test builds a small repository holding action_lib, the actions, the topology
and tests/workflows/artifacts.yml, once with the local store and once with S3 on moto.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from action_lib.topology import load_topology
from tests.artifact_helpers import build_stage

pytestmark = [pytest.mark.act, pytest.mark.integration]
ACT = Path(sys.executable).with_name("act")


@pytest.fixture
def act_repo(repo_root: Path, tmp_path: Path) -> Path:
    """A git repository with what the workflow needs, committed."""
    if not ACT.exists() and shutil.which("act") is None:
        pytest.skip("act is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(
        repo_root / "action_lib", repo / "action_lib", ignore=shutil.ignore_patterns("__pycache__")
    )
    for action in ("push-stage-artifacts", "fetch-stage-artifacts"):
        shutil.copytree(repo_root / "actions" / action, repo / "actions" / action)
    shutil.copy(repo_root / "actions" / "bootstrap.sh", repo / "actions" / "bootstrap.sh")
    shutil.copy(repo_root / "BUILD_TOPOLOGY.toml", repo / "BUILD_TOPOLOGY.toml")
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(
        repo_root / "tests" / "workflows" / "artifacts.yml",
        repo / ".github" / "workflows" / "artifacts.yml",
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "act"], check=True)
    return repo


def run_act(repo: Path, env: dict[str, str]) -> str:
    act = str(ACT) if ACT.exists() else str(shutil.which("act"))
    argv = [
        act,
        "push",
        "-W",
        ".github/workflows/artifacts.yml",
        "-P",
        "ubuntu-latest=-self-hosted",
        "--pull=false",
    ]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "AWS_"))}
    done = subprocess.run(
        argv, cwd=repo, capture_output=True, text=True, timeout=300, env=clean, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def prepared(repo_root: Path, tmp_path: Path) -> dict[str, str]:
    build = tmp_path / "build"
    build_stage(build, load_topology(repo_root / "BUILD_TOPOLOGY.toml"), "foundation")
    return {
        "ROCKSHARD_PYTHON": sys.executable,
        "ROCKSHARD_TEST_BUILD": str(build),
        "ROCKSHARD_TEST_OUT": str(tmp_path / "next-build"),
    }


def test_push_then_fetch_local_store(act_repo: Path, repo_root: Path, tmp_path: Path) -> None:
    env = prepared(repo_root, tmp_path)
    store = tmp_path / "staging"
    env.update({"ROCKSHARD_TEST_STORE": "", "THEROCK_LOCAL_STAGING_DIR": str(store)})
    output = run_act(act_repo, env)
    assert "fetch-ok 12 archives" in output
    assert "| archive | size | status | sha256 |" in output  # the job summary
    assert (store / "1-linux" / "base_lib_generic.tar.zst.sha256sum").is_file()


def test_push_then_fetch_s3(
    act_repo: Path, repo_root: Path, tmp_path: Path, s3_bucket: str, moto_endpoint: str
) -> None:
    env = prepared(repo_root, tmp_path)
    env.update(
        {
            "ROCKSHARD_TEST_STORE": s3_bucket,
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    output = run_act(act_repo, env)
    assert "fetch-ok 12 archives" in output
    assert f"pushed to {s3_bucket}/1-linux/" in output
