"""The hostile-input suite (issue 16), stores: listings with keys no archive of the run can have
(``..``, slashes, control characters, unknown artifacts), file names a local file system
holds, undecodable sidecars, shard records naming paths, artifact names. Asserted: nothing
written outside the output and cache dirs, no traceback, no injected workflow command.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from action_lib.artifacts.fetch import FetchOptions
from action_lib.artifacts.names import parse_archive, parse_stem, sidecar, try_parse_archive
from action_lib.artifacts.plan import screen_listing
from action_lib.errors import FindingsError, InputError, OperationError
from action_lib.inputs.paths import (
    component_problems,
)
from action_lib.jobs.model import RunRef, StageJob
from action_lib.jobs.stage_artifacts import fetch_stage
from action_lib.stores.base import OnBytes, Sink
from action_lib.topology import Conditions
from action_lib.topology.loader import parse_topology
from tests.artifact_helpers import Entry, craft_archive
from tests.hostile import (
    SOAK,
    SPECIAL,
    Tally,
    check_run,
    check_text,
    escape_line,
    hostile_name,
    hostile_text,
    run_cli,
    snapshot,
    tally,
)
from tests.topologies import MINIMAL

__all__ = ["tally"]  # the fixture, used by name

REPO = Path(__file__).resolve().parent.parent


# --- store listings and artifact names ------------------------------------------------------------


class MemoryStore:
    """A store in memory whose listing is whatever a test puts in it (keys S3 could hold)."""

    url = "mem://store"

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.asked: list[str] = []

    def location(self, run: str) -> str:
        return f"{self.url}/{run}"

    def listing(self, run: str) -> Mapping[str, int]:
        return {k: len(v) for k, v in sorted(self.files.items())}

    def read_text(self, run: str, name: str) -> str | None:
        self.asked.append(name)
        data = self.files.get(name)
        return None if data is None else data.decode()

    def read_tail(self, run: str, name: str, size: int, n: int) -> bytes:
        self.asked.append(name)
        return self.files[name][-n:]

    def local_path(self, run: str, name: str) -> Path | None:
        return None

    def download(self, run: str, name: str, out: Sink, progress: OnBytes | None = None) -> None:
        self.asked.append(name)
        out.write(self.files[name])


@pytest.fixture(scope="module")
def good_archives(tmp_path_factory: Any) -> dict[str, bytes]:
    """The archives stage 'second' of MINIMAL fetches, with their sidecars."""
    tmp = tmp_path_factory.mktemp("archives")
    files: dict[str, bytes] = {}
    for artifact in ("alpha", "beta"):
        name = f"{artifact}_lib_generic.tar.zst"
        digest = craft_archive(tmp / name, [Entry(f"stage/{artifact}.txt", b"x")])
        files[name] = (tmp / name).read_bytes()
        files[sidecar(name)] = (digest + "\n").encode()
    return files


hostile_keys = st.lists(
    st.one_of(
        hostile_text(3),
        hostile_text(2).map(lambda s: s + ".tar.zst"),
        hostile_text(2).map(lambda s: f"alpha_lib_{s}.tar.zst"),
        st.sampled_from(SPECIAL).map(lambda s: f"../{s}_lib_generic.tar.zst"),
        st.just("zeta_lib_generic.tar.zst"),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(hostile_keys)
def test_store_listing_and_fetch(
    tally: Tally, tmp_path_factory: Any, good_archives: dict[str, bytes], keys: list[str]
) -> None:
    count = tally["store listing + fetch"]
    count.inputs += len(keys)
    root = tmp_path_factory.mktemp("fetch")
    files = dict(good_archives)
    for key in keys:
        files.setdefault(key, b"PWN")
        files.setdefault(key + ".sha256sum", b"0" * 64 + b"\n")
    store = MemoryStore(files)
    topology, _ = parse_topology(MINIMAL)
    job = StageJob(topology, "second", Conditions("linux"), "gfx94X-dcgpu")
    before = snapshot(root)
    err = io.StringIO()
    options = FetchOptions(cache_dir=root / "cache")
    with mock.patch.object(sys, "stderr", err):
        result = fetch_stage(job, RunRef(store, "1-linux"), root / "out", options)  # type: ignore[arg-type]
    assert sorted(m.filename for m in result.moved) == sorted(
        n for n in good_archives if n.endswith(".zst")
    )
    written = snapshot(root) - before
    outside = {p for p in written if not p.startswith(("out", "cache"))}
    count.escapes += len(outside)
    assert not outside, outside
    assert all(n in good_archives for n in store.asked if n in files), store.asked
    screened = screen_listing(store.listing("1-linux"), topology)
    count.findings += len(screened.ignored)
    check_text(count, err.getvalue())


@settings(max_examples=15, deadline=None)
@given(st.lists(hostile_name(), min_size=1, max_size=4))
def test_local_store_listing_with_hostile_file_names(
    tally: Tally, tmp_path_factory: Any, good_archives: dict[str, bytes], names: list[str]
) -> None:
    count = tally["store listing + fetch"]
    count.inputs += len(names)
    root = tmp_path_factory.mktemp("local")
    run_dir = root / "store" / "1-linux"
    run_dir.mkdir(parents=True)
    for name, data in good_archives.items():
        (run_dir / name).write_bytes(data)
    for name in names:
        for variant in (name, name + ".tar.zst", f"alpha_lib_{name}.tar.zst"):
            try:
                (run_dir / variant).write_bytes(b"PWN")
                (run_dir / (variant + ".sha256sum")).write_text("0" * 64)
            except (OSError, UnicodeEncodeError):
                continue  # a name this file system refuses
    topo = root / "BUILD_TOPOLOGY.toml"
    topo.write_text(MINIMAL, encoding="utf-8")
    before = snapshot(root)
    err = io.StringIO()
    args = ["artifacts", "fetch", "--stage", "second", "--amdgpu-family", "gfx94X-dcgpu"]
    args += ["--topology", str(topo), "--store", str(root / "store"), "--run-id", "1"]
    args += ["--platform", "linux", "--output-dir", str(root / "out")]
    ran = run_cli(args)
    err.write(ran.err)
    assert ran.code == 0, ran.err
    written = snapshot(root) - before
    outside = {p for p in written if not p.startswith("out")}
    count.escapes += len(outside)
    assert not outside, outside
    count.findings += ran.err.count("': ")
    check_run(count, ran)


@settings(max_examples=300, deadline=None)
@given(st.one_of(hostile_text(4), hostile_text(2).map(lambda s: s + ".tar.zst")))
def test_artifact_names(tally: Tally, value: str) -> None:
    count = tally["artifact names"]
    count.inputs += 1
    for parse in (parse_archive, parse_stem):
        try:
            parse(value)
        except InputError as exc:
            count.findings += 1
            check_text(count, escape_line(str(exc)))
    parsed = try_parse_archive(value)
    if parsed is not None:
        name, compression = parsed
        assert name.archive(compression) == value
        assert component_problems(value) == []  # a parsed name is always one safe file name


# --- names that become paths ---


@pytest.mark.parametrize(
    ("run", "name"),
    [
        ("../x", "a.tar.zst"),
        ("1-linux", "../../etc/passwd"),
        ("1-linux", "a\nb"),
        ("a/b/c/d/e", "x"),
    ],
    ids=["run-dotdot", "name-dotdot", "name-newline", "run-deep"],
)
def test_stores_refuse_names_that_leave_their_folder(
    tally: Tally, tmp_path: Path, run: str, name: str
) -> None:
    from action_lib.stores.local import LocalStore

    count = tally["store names + settings"]
    count.inputs += 1
    store = LocalStore(tmp_path / "store")
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match="refused"):
        store.write_text(run, name, "PWN")
    with pytest.raises(InputError, match="refused"):
        store.read_text(run, name)
    count.findings += 1
    assert snapshot(tmp_path) == before


def test_a_shard_record_naming_paths_is_refused(tally: Tally) -> None:
    from action_lib.jobs.convergence import check_convergence

    count = tally["store names + settings"]
    count.inputs += 1
    record = {"stage": "s\n::error::PWN", "archives": {"../../etc/passwd": "0" * 64}}
    store = MemoryStore({"rockshard-shard_s_generic.json": json.dumps(record).encode()})
    with pytest.raises(OperationError, match="not a shard record") as caught:
        check_convergence(store, "1-linux")  # type: ignore[arg-type]
    assert store.asked == ["rockshard-shard_s_generic.json"]
    count.findings += 1
    check_text(count, escape_line(str(caught.value)))


def test_undecodable_bytes_in_store_files_and_checkout_files(
    tally: Tally, tmp_path: Path, good_archives: dict[str, bytes]
) -> None:
    from action_lib.sources.checkout import read_gitmodules
    from action_lib.sources.git import GitRunner

    count = tally["store names + settings"]
    count.inputs += 2
    run_dir = tmp_path / "store" / "1-linux"
    run_dir.mkdir(parents=True)
    for name, data in good_archives.items():
        (run_dir / name).write_bytes(data)
    (run_dir / "alpha_lib_generic.tar.zst.sha256sum").write_bytes(b"\xff\xfe\n::error::PWN")
    topo = tmp_path / "BUILD_TOPOLOGY.toml"
    topo.write_text(MINIMAL, encoding="utf-8")
    args = ["artifacts", "fetch", "--stage", "second", "--amdgpu-family", "gfx94X-dcgpu"]
    args += ["--topology", str(topo), "--store", str(tmp_path / "store"), "--run-id", "1"]
    ran = run_cli([*args, "--platform", "linux", "--output-dir", str(tmp_path / "out")])
    assert ran.code == 1 and "not a sha256 digest" in ran.err, ran.err
    check_run(count, ran)
    (tmp_path / ".gitmodules").write_bytes(b'[submodule "a\xff"]\n\tpath = ../\xfe\n')
    with pytest.raises(FindingsError):
        read_gitmodules(GitRunner(), tmp_path)
    count.findings += 2


# --- the soak (pytest --slow) ---


@pytest.mark.slow
@SOAK
@given(hostile_keys)
def test_soak_store_screen(tally: Tally, keys: list[str]) -> None:
    count = tally["soak: store listing"]
    count.inputs += len(keys)
    topology, _ = parse_topology(MINIMAL)
    screened = screen_listing(dict.fromkeys(keys, 1), topology)
    count.findings += len(screened.ignored)
    for name in screened.listing:
        assert component_problems(name) == []
    head, lines = screened.warning("mem://x")
    check_text(count, escape_line(head), *(escape_line(line) for line in lines))
