"""Partial checkouts that build: every stage of this repository's super-build, from a
superproject whose source sets are git submodules, builds with only its own sources.

The fixture copies the super-build (CMakeLists.txt, cmake/, src/, action_lib/) into a
superproject whose source sets are git submodules (temporary repositories, file:// URLs),
with a variant of BUILD_TOPOLOGY.toml listing ``submodules`` instead of ``path_prefixes``
(same stages, groups and artifacts). An earlier monolithic build fills a local store. Then,
for every stage: a fresh clone, ``rockshard sources fetch --stage S``, ``rockshard artifacts
fetch --stage S --bootstrap``, configure and build of ``stage-S``; and no submodule outside
the stage's source sets was checked out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.sources.gitmodules import parse_gitmodules
from action_lib.sources.plan import plan_sources
from action_lib.topology import Topology, load_topology, queries
from tests.fixtures.gitrepos import GIT_ENV, add_submodule, commit_all, fresh_clone, git, make_repo

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
FAMILY = "gfx1151"  # one gfx target: the cheapest per-arch build
RUN_ID = "partial"
COPIED = ("BUILD_TOPOLOGY.toml", "CMakeLists.txt", "cmake", "src", "action_lib")


def _tools_missing() -> str:
    if not (REPO / "CMakeLists.txt").is_file() or not (REPO / "src").is_dir():
        return "the super-build (CMakeLists.txt, src/) is not in this checkout"
    for tool in ("cmake", "ninja", "git"):
        if shutil.which(tool) is None and not (Path(sys.executable).parent / tool).exists():
            return f"{tool} is not available"
    return ""


def submodule_variant(text: str) -> tuple[str, dict[str, str]]:
    """The topology with each ``path_prefixes = [...]`` turned into ``submodules = [...]``
    (a submodule per prefix, named after its folder); and submodule name -> path."""
    paths: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        prefixes = re.findall(r'"([^"]+)"', match.group(1))
        names = []
        for prefix in prefixes:
            name = prefix.rstrip("/").rpartition("/")[2]
            paths[name] = prefix.rstrip("/")
            names.append(f'"{name}"')
        return f"submodules = [{', '.join(names)}]"

    variant = re.sub(r"^path_prefixes = \[(.*)\]$", replace, text, flags=re.MULTILINE)
    return variant, paths


@dataclass
class World:
    origin: Path  # the superproject
    topology: Topology  # its variant topology
    paths: dict[str, str]  # submodule name -> path
    store: Path
    env: dict[str, str]


def run(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(
            args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8").splitlines()[-40:])
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{tail}")


def configure_and_build(
    source: Path, build: Path, stage: str, cmake_args: list[str], env: dict[str, str], log: Path
) -> None:
    run(
        [
            "cmake",
            "-S",
            str(source),
            "-B",
            str(build),
            "-G",
            "Ninja",
            f"-DROCKSHARD_PYTHON={sys.executable}",
            *cmake_args,
        ],
        source,
        env,
        log,
    )
    run(["cmake", "--build", str(build), "--target", f"stage-{stage}"], source, env, log)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    missing = _tools_missing()
    if missing:
        pytest.skip(missing)
    root = tmp_path_factory.mktemp("partial")
    patch = pytest.MonkeyPatch()
    try:
        yield _build_world(root, patch)
    finally:
        patch.undo()


def _build_world(root: Path, patch: pytest.MonkeyPatch) -> World:
    for key, value in GIT_ENV.items():
        patch.setenv(key, value)
    patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env = dict(os.environ)

    copy = root / "copy"
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / name)
    variant, paths = submodule_variant((REPO / "BUILD_TOPOLOGY.toml").read_text(encoding="utf-8"))
    assert paths
    (copy / "BUILD_TOPOLOGY.toml").write_text(variant, encoding="utf-8")

    # Each source-set folder becomes a repository of its own; the rest is the superproject.
    for name, path in paths.items():
        shutil.move(str(copy / path), str(root / "origins" / name))
        make_repo(root / "origins" / name, {})
    origin = root / "super"
    shutil.move(str(copy), str(origin))
    # the generated include names the topology as given: relative, from the superproject
    run(
        [
            sys.executable,
            "-m",
            "action_lib",
            "cmake",
            "--topology",
            "BUILD_TOPOLOGY.toml",
            "--dialect",
            "rockshard",
            "--output",
            "cmake/rockshard_topology.cmake",
        ],
        origin,
        env,
        root / "generate.log",
    )
    make_repo(origin, {})
    for name, path in sorted(paths.items()):
        add_submodule(origin, root / "origins" / name, name, path)
    commit_all(origin, "source sets as submodules")
    topology = load_topology(origin / "BUILD_TOPOLOGY.toml")
    assert not any(ss.path_prefixes for ss in topology.source_sets.values())

    # The earlier build: everything, in a full checkout, pushed stage by stage to the store.
    full = fresh_clone(origin, root / "full")
    git(full, "submodule", "update", "--init", "--quiet")
    store = root / "store"
    log = root / "earlier-build.log"
    run(
        [
            "cmake",
            "-S",
            str(full),
            "-B",
            str(root / "full-build"),
            "-G",
            "Ninja",
            f"-DROCKSHARD_PYTHON={sys.executable}",
            f"-DROCKSHARD_AMDGPU_FAMILIES={FAMILY}",
        ],
        full,
        env,
        log,
    )
    run(["cmake", "--build", str(root / "full-build"), "--target", "artifacts"], full, env, log)
    for stage in queries.build_order(topology):
        assert (
            main(
                [
                    "artifacts",
                    "push",
                    "--topology",
                    str(full / "BUILD_TOPOLOGY.toml"),
                    "--stage",
                    stage,
                    "--build-dir",
                    str(root / "full-build"),
                    "--store",
                    str(store),
                    "--run-id",
                    RUN_ID,
                    "--amdgpu-families",
                    FAMILY,
                    "--platform",
                    "linux",
                ]
            )
            == 0
        )
    return World(origin, topology, paths, store, env)


STAGES = ("foundation", "compiler-runtime", "comm-libs", "math-libs", "ml-libs", "tools")


@pytest.mark.skipif(sys.platform == "win32", reason="the pipeline under test is the linux one")
@pytest.mark.parametrize("stage", STAGES, ids=STAGES)
def test_stage_builds_from_its_partial_checkout(
    world: World, stage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert set(STAGES) == set(world.topology.build_stages)
    clone = fresh_clone(world.origin, tmp_path / "checkout")
    topology_arg = ["--topology", str(clone / "BUILD_TOPOLOGY.toml")]

    assert (
        main(
            [
                "sources",
                "fetch",
                "--stage",
                stage,
                "--depth",
                "1",
                "--jobs",
                "2",
                "--repo",
                str(clone),
            ]
        )
        == 0
    )
    subs = parse_gitmodules((clone / ".gitmodules").read_text(encoding="utf-8"))
    wanted = {
        s.name
        for s in plan_sources(world.topology, stage, platform="linux", submodules=subs).submodules
    }
    assert wanted, f"stage {stage} needs no submodule?"
    checked_out = {
        name
        for name, path in world.paths.items()
        if (clone / path / ".git").exists() or (clone / ".git" / "modules" / name).exists()
    }
    assert checked_out == wanted, f"outside {stage}'s source sets: {sorted(checked_out - wanted)}"
    status = ["sources", "status", "--stage", stage, "--require", "--repo", str(clone)]
    assert main(status) == 0  # every submodule of the stage present, at the recorded commit

    build = tmp_path / "build"
    assert (
        main(
            [
                "artifacts",
                "fetch",
                *topology_arg,
                "--stage",
                stage,
                "--bootstrap",
                "--output-dir",
                str(build),
                "--store",
                str(world.store),
                "--run-id",
                RUN_ID,
                "--amdgpu-families",
                FAMILY,
                "--platform",
                "linux",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "configure-stage",
                *topology_arg,
                "--stage",
                stage,
                "--dialect",
                "rockshard",
                "--amdgpu-families",
                FAMILY,
                "--platform",
                "linux",
            ]
        )
        == 0
    )
    cmake_args = [line for line in capsys.readouterr().out.split() if line.startswith("-D")]
    assert cmake_args

    configure_and_build(clone, build, stage, cmake_args, world.env, tmp_path / "build.log")
    produced = queries.produced_artifacts(world.topology, stage)
    populated = {p.name.split("_")[0] for p in (build / "artifacts").iterdir()}
    assert set(produced) <= populated
    # Upstream subprojects came from the store: their stage dirs are marked prebuilt.
    if queries.inbound_artifacts(world.topology, stage):
        assert list(build.rglob("stage.prebuilt"))
