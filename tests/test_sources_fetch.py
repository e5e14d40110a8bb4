"""``rockshard sources fetch|status``: real temporary git repositories, file:// URLs."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.errors import OperationError
from action_lib.sources import (
    CheckoutOptions,
    GitRunner,
    fetch_sources,
    owned_paths,
    plan_sources,
    read_gitmodules,
    source_status,
    sparse_checkout_paths,
)
from action_lib.sources.checkout import fetch_external
from action_lib.sources.plan import ExternalCheckout
from action_lib.topology import ExternalGitSource, Topology, load_topology
from tests.fixtures.gitrepos import (
    add_submodule,
    commit_all,
    fresh_clone,
    git,
    make_repo,
    url,
    use_git_env,
    wrapper_git,
    write_tree,
)

pytestmark = pytest.mark.integration

TOPOLOGY = """\
[metadata]
version = "2.0"
description = "superproject of the sources tests"

[source_sets.alpha]
submodules = ["alpha-src"]
path_prefixes = ["src/one"]

[source_sets.beta]
submodules = ["beta-src"]

[source_sets.gamma]
submodules = ["gamma-src"]
path_prefixes = ["src/two"]
external_git_sources = [
  {{ name = "ext", origin = "{ext_url}", commit = "{ext_commit}", path = "optional-sources/ext" }},
]

[build_stages.first]
artifact_groups = ["a"]

[build_stages.second]
artifact_groups = ["b"]

[artifact_groups.a]
type = "generic"
source_sets = ["alpha"]

[artifact_groups.b]
type = "generic"
artifact_group_deps = ["a"]
source_sets = ["beta", "gamma"]

[artifacts.a1]
artifact_group = "a"
type = "target-neutral"

[artifacts.b1]
artifact_group = "b"
type = "target-neutral"
artifact_deps = ["a1"]
"""

SUBMODULES = {"alpha-src": "libs/alpha", "beta-src": "libs/beta", "gamma-src": "tools/gamma"}


@dataclass
class Super:
    origin: Path  # the superproject's origin repository
    clone: Path  # a fresh clone, submodules not initialised
    topology: Topology
    ext: Path
    ext_commits: tuple[str, str]  # (pinned, newer)
    subs: dict[str, Path]


@pytest.fixture
def superproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Super:
    use_git_env(monkeypatch)
    subs = {name: tmp_path / "origins" / name for name in SUBMODULES}
    for name, path in subs.items():
        make_repo(path, {"README": f"{name}\n", "CMakeLists.txt": f"# {name}\n"})
    ext = tmp_path / "origins" / "ext"
    pinned = make_repo(ext, {"ext.txt": "v1\n"})
    write_tree(ext, {"ext.txt": "v2\n"})
    newer = commit_all(ext, "v2")
    origin = tmp_path / "super"
    make_repo(
        origin,
        {
            "BUILD_TOPOLOGY.toml": TOPOLOGY.format(ext_url=url(ext), ext_commit=pinned),
            "CMakeLists.txt": "# root\n",
            "cmake/helpers.cmake": "# common\n",
            "src/common.txt": "shared\n",
            "src/one/one.c": "int one;\n",
            "src/two/two.c": "int two;\n",
            "docs/index.md": "docs\n",
        },
    )
    for name, sub_path in SUBMODULES.items():
        add_submodule(origin, subs[name], name, sub_path)
    commit_all(origin, "submodules")
    clone = fresh_clone(origin, tmp_path / "clone")
    topology = load_topology(clone / "BUILD_TOPOLOGY.toml")
    return Super(origin, clone, topology, ext, (pinned, newer), subs)


def initialised(repo: Path) -> set[str]:
    return {p for p in SUBMODULES.values() if (repo / p / ".git").exists()}


FAST = GitRunner(retries=2, backoff=0.01, timeout=60)


def test_fetch_stage_checks_out_only_its_cone(superproject: Super) -> None:
    repo = superproject.clone
    assert main(["sources", "fetch", "--stage", "first", "--repo", str(repo)]) == 0
    assert initialised(repo) == {"libs/alpha"}
    assert not (repo / ".git" / "modules" / "beta-src").exists()
    assert (repo / "src/one/one.c").is_file()
    assert not (repo / "src/two").exists()
    # Everything no source set owns stays: root files, cmake/, docs/, src/'s own files.
    for common in ("CMakeLists.txt", "cmake/helpers.cmake", "docs/index.md", "src/common.txt"):
        assert (repo / common).is_file(), common
    assert not (repo / "optional-sources").exists()


def test_fetch_shallow_parallel_with_external_source(superproject: Super) -> None:
    repo = superproject.clone
    code = main(
        [
            "sources",
            "fetch",
            "--stage",
            "second",
            "--depth",
            "1",
            "--jobs",
            "2",
            "--repo",
            str(repo),
        ]
    )
    assert code == 0
    assert initialised(repo) == {"libs/beta", "tools/gamma"}
    assert git(repo / "libs/beta", "rev-parse", "--is-shallow-repository") == "true"
    ext = repo / "optional-sources/ext"
    assert git(ext, "rev-parse", "HEAD") == superproject.ext_commits[0]
    assert (ext / "ext.txt").read_text() == "v1\n"
    assert (repo / "src/two/two.c").is_file() and not (repo / "src/one").exists()
    # A second fetch finds everything in place.
    assert main(["sources", "fetch", "--stage", "second", "--repo", str(repo)]) == 0


def test_extra_source_sets_and_dry_run(
    superproject: Super, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = superproject.clone
    args = ["sources", "fetch", "--stage", "first", "--source-sets", "beta", "--dry-run"]
    assert main([*args, "--repo", str(repo), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["plan"]["source_sets"] == ["alpha", "beta"]
    assert [s["name"] for s in data["plan"]["submodules"]] == ["alpha-src", "beta-src"]
    assert any(
        a.startswith("git submodule update --init -- libs/alpha libs/beta") for a in data["actions"]
    )
    assert data["sparse_paths"] == ["cmake", "docs", "libs/alpha", "libs/beta", "src/one"]
    assert initialised(repo) == set()  # a dry run changes nothing
    assert (repo / "src/two/two.c").is_file()


def test_sparse_checkout_paths_for_the_matrix(superproject: Super) -> None:
    paths = sparse_checkout_paths(superproject.topology, ["second"], repo=superproject.clone)[
        "second"
    ]
    assert paths == ("cmake", "docs", "libs/beta", "optional-sources/ext", "src/two", "tools/gamma")


def test_reference_mirrors(superproject: Super, tmp_path: Path) -> None:
    mirrors = tmp_path / "mirrors"
    for name, path in superproject.subs.items():
        git(tmp_path, "clone", "-q", "--mirror", url(path), str(mirrors / f"{name}.git"))
    repo = superproject.clone
    assert (
        main(
            [
                "sources",
                "fetch",
                "--stage",
                "first",
                "--reference-dir",
                str(mirrors),
                "--repo",
                str(repo),
            ]
        )
        == 0
    )
    alternates = repo / ".git/modules/alpha-src/objects/info/alternates"
    assert "mirrors" in alternates.read_text()


def test_status_present_missing_different(superproject: Super) -> None:
    repo = superproject.clone
    runner = FAST
    subs = read_gitmodules(runner, repo)
    plan = plan_sources(superproject.topology, "first", submodules=subs)
    fetch_sources(runner, repo, plan, owned_paths(superproject.topology, subs), CheckoutOptions())

    def states() -> dict[str, str]:
        rows = source_status(runner, repo, superproject.topology, subs)
        return {r.name: r.state for r in rows}

    assert states() == {
        "alpha-src": "present",
        "beta-src": "missing",
        "gamma-src": "missing",
        "ext": "missing",
        "src/one": "present",
        "src/two": "missing",
    }
    write_tree(repo / "libs/alpha", {"more.txt": "x\n"})
    commit_all(repo / "libs/alpha", "moved on")
    assert states()["alpha-src"] == "different-commit"
    assert main(["sources", "status", "--stage", "first", "--require", "--repo", str(repo)]) == 1


posix_only = pytest.mark.skipif(sys.platform == "win32", reason="the git wrapper is a sh script")


@posix_only
@pytest.mark.parametrize(
    "message",
    [
        "fatal: unable to access 'https://example.invalid/x.git/': Could not resolve host: example.invalid",
        "fatal: Unable to create '/tmp/x/.git/index.lock': File exists.",
    ],
    ids=["network", "index-lock"],
)
def test_transient_failure_is_retried(
    superproject: Super, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    bin_dir = tmp_path / "bin"
    log = wrapper_git(
        bin_dir,
        'if [ "$1" = submodule ] && [ ! -e "$STATE/failed" ]; then\n'
        f'  touch "$STATE/failed"; echo "{message}" >&2; exit 128\nfi',
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    repo = superproject.clone
    plan = plan_sources(superproject.topology, "first", submodules=read_gitmodules(FAST, repo))
    fetch_sources(
        FAST, repo, plan, owned_paths(superproject.topology, ()), CheckoutOptions(sparse=False)
    )
    calls = [c for c in log.read_text().splitlines() if c.startswith("submodule")]
    assert len(calls) == 2
    assert initialised(repo) == {"libs/alpha"}


@posix_only
def test_permanent_failure_names_submodule_and_is_not_retried(
    superproject: Super, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    log = wrapper_git(
        bin_dir,
        'if [ "$1" = submodule ]; then\n'
        "  echo \"fatal: repository 'https://example.invalid/alpha/' not found\" >&2\n"
        "  echo \"fatal: clone of 'https://example.invalid/alpha' into submodule path '$PWD/libs/alpha' failed\" >&2\n"
        "  exit 128\nfi",
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    repo = superproject.clone
    plan = plan_sources(superproject.topology, "first", submodules=read_gitmodules(FAST, repo))
    with pytest.raises(OperationError) as caught:
        fetch_sources(FAST, repo, plan, (), CheckoutOptions(sparse=False))
    text = str(caught.value)
    assert "submodule 'alpha-src' (libs/alpha" in text
    assert "not found" in text  # git's own words
    assert len([c for c in log.read_text().splitlines() if c.startswith("submodule")]) == 1


@posix_only
def test_hung_git_is_killed(
    superproject: Super, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    wrapper_git(bin_dir, 'if [ "$1" = fetch ]; then exec sleep 60; fi')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    item = ExternalCheckout(
        ExternalGitSource("ext", url(superproject.ext), superproject.ext_commits[0], "opt/ext"),
        "gamma",
    )
    runner = GitRunner(retries=0, timeout=1.0)
    with pytest.raises(OperationError) as caught:
        fetch_external(runner, superproject.clone, item, CheckoutOptions())
    assert str(caught.value).startswith(f"external source 'ext' ({url(superproject.ext)}): ")
    assert "timed out after 1 s and was killed" in str(caught.value)
    assert "does not exist" not in str(caught.value)  # a hung fetch is not a missing commit


@posix_only
def test_missing_external_commit_is_a_clear_error(
    superproject: Super, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    log = wrapper_git(bin_dir, "")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    missing = "0123456789abcdef0123456789abcdef01234567"
    item = ExternalCheckout(
        ExternalGitSource("ext", url(superproject.ext), missing, "opt/ext"), "gamma"
    )
    with pytest.raises(OperationError) as caught:
        fetch_external(FAST, superproject.clone, item, CheckoutOptions(depth=1))
    assert f"pinned commit {missing} does not exist in {url(superproject.ext)}" in str(caught.value)
    fetches = [c for c in log.read_text().splitlines() if c.startswith("fetch")]
    assert len(fetches) == 2  # by id, then every branch: no retry loop


def test_missing_submodule_commit_is_a_clear_error(
    superproject: Super, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = "0123456789abcdef0123456789abcdef01234567"
    git(superproject.origin, "update-index", "--cacheinfo", f"160000,{missing},libs/alpha")
    git(superproject.origin, "commit", "-q", "-m", "point alpha at nothing")
    repo = fresh_clone(superproject.origin, tmp_path / "clone2")
    code = main(["sources", "fetch", "--stage", "first", "--repo", str(repo), "--backoff", "0.01"])
    assert code == 1
    err = capsys.readouterr().err
    assert "submodule 'alpha-src' (libs/alpha" in err
    assert "does not exist in the submodule's repository" in err
    assert missing in err


def test_unknown_stage(superproject: Super, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sources", "fetch", "--stage", "frist", "--repo", str(superproject.clone)])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown stage 'frist'" in err and "did you mean 'first'" in err


def test_not_a_checkout(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topology = str(repo_root / "BUILD_TOPOLOGY.toml")
    code = main(
        ["sources", "fetch", "--stage", "tools", "--topology", topology, "--repo", str(tmp_path)]
    )
    assert code == 2
    assert "not the top of a git checkout" in capsys.readouterr().err
