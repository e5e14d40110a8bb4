"""The hostile-input suite, git entry points (integration): ``rockshard impact`` over real
commits whose files have hostile names (newlines, ``::``, undecodable bytes, reserved Windows
names...), and git never reading a value from data as an option."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from action_lib.errors import OperationError
from action_lib.sources.checkout import CheckoutOptions, fetch_external, read_gitmodules
from action_lib.sources.git import GitRunner, diff, ls_tree
from action_lib.sources.plan import ExternalCheckout
from action_lib.topology.model import ExternalGitSource
from tests.fixtures.gitrepos import GIT_ENV, commit_all, git, make_repo
from tests.hostile import Tally, actions_env, check_run, hostile_name, run_cli, snapshot, tally

pytestmark = pytest.mark.integration
__all__ = ["tally"]

REPO = Path(__file__).resolve().parent.parent
FAST = GitRunner(retries=0, timeout=60.0)


@dataclass
class Repo:
    path: Path
    head: str


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    """A superproject with the demo topology; each example commits on top of it."""
    with mock.patch.dict(os.environ, GIT_ENV):
        path = tmp_path_factory.mktemp("hostile") / "super"
        topology = (REPO / "BUILD_TOPOLOGY.toml").read_text(encoding="utf-8")
        head = make_repo(path, {"BUILD_TOPOLOGY.toml": topology, "src/runtime/a.c": "a\n"})
        yield Repo(path, head)


def _write(root: Path, rel: str) -> bool:
    try:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"PWN {time.monotonic_ns()}\n", encoding="utf-8")  # always a change
    except (OSError, UnicodeEncodeError):
        return False  # a name this file system refuses
    return True


@settings(max_examples=20, deadline=None)
@given(
    st.lists(hostile_name(), min_size=1, max_size=3),
    st.sampled_from(["text", "markdown", "json"]),
    st.booleans(),
)
def test_impact_from_git(
    tally: Tally,
    repo: Repo,
    tmp_path_factory: pytest.TempPathFactory,
    names: list[str],
    fmt: str,
    gha: bool,
) -> None:
    count = tally["impact from git"]
    with mock.patch.dict(os.environ, GIT_ENV):
        written = [
            rel
            for name in names
            for rel in (name, f"src/runtime/{name}", f"{name}/x.c")
            if _write(repo.path, rel)
        ]
        count.inputs += len(written)
        base = repo.head
        repo.head = commit_all(repo.path, "hostile names")
        tmp = tmp_path_factory.mktemp("impact")
        env = {**GIT_ENV, **(actions_env(tmp) if gha else {})}
        before = snapshot(tmp)
        args = ["impact", "--repo", str(repo.path), "--base", base, "--head", repo.head]
        args += ["--topology", str(repo.path / "BUILD_TOPOLOGY.toml"), "--format", fmt]
        ran = run_cli([*args, "--gha-output"] if gha else args, env)
    summary = (tmp / "summary.md").read_text(encoding="utf-8") if gha else ""
    check_run(count, ran, in_actions=gha, summary=summary)
    assert ran.code == 0, ran.err
    outside = snapshot(tmp) - before
    count.escapes += len(outside)
    assert not outside
    if fmt == "json":
        paths = json.loads(ran.out)["paths"]
        count.findings += sum(p["rule"] == "unmapped" for p in paths)
        assert len(paths) >= len({w.split("/")[0] for w in written}) // 2


def test_git_reads_no_value_from_data_as_an_option(
    tally: Tally, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = tally["impact from git"]
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    head = make_repo(tmp_path / "super", {"a.c": "a\n"})
    super_ = tmp_path / "super"
    pwned = tmp_path / "PWNED"
    hostile = f"--output={pwned}"
    for call in (
        lambda: diff(FAST, super_, hostile, head),
        lambda: ls_tree(FAST, super_, hostile),
        lambda: read_gitmodules(FAST, super_, hostile),
    ):
        count.inputs += 1
        try:
            call()
        except OperationError:
            count.findings += 1
    item = ExternalCheckout(
        ExternalGitSource("ext", f"--upload-pack=touch {pwned}", head, "optional-sources/ext"),
        "core",
    )
    count.inputs += 1
    with pytest.raises(OperationError):
        fetch_external(FAST, super_, item, CheckoutOptions())
    count.findings += 1
    assert not pwned.exists()
    assert git(super_ / "optional-sources/ext", "remote", "get-url", "origin") == item.source.origin
