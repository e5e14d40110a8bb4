"""Cache records read from a store others may write: hostile run folders and archive names are
misses, never paths outside the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from action_lib.cache.explain import explain_lines
from action_lib.cache.lookup import lookup
from action_lib.cache.records import CACHE_ROOT, parse_record, record_name
from action_lib.inputs.untrusted import CommandGuard
from action_lib.jobs.cache_plan import CachePlan, JobCache, plan_markdown
from action_lib.stores.local import LocalStore

KEY = "a" * 64
DIGEST = "b" * 64


def record(run: str = "7-linux", name: str = "tools_run_generic.tar.zst") -> dict[str, Any]:
    """A well-formed record of stage ``tools`` whose fields a test then spoils."""
    return {
        "schema": 1,
        "stage": "tools",
        "family": "",
        "platform": "linux",
        "key": KEY,
        "content_key": KEY,
        "run": run,
        "commit": "c" * 40,
        "created": "2026-11-30T00:00:00Z",
        "archives": {name: {"digest": DIGEST, "size": 3, "fingerprint": ""}},
    }


def test_a_well_formed_record_parses() -> None:
    parsed = parse_record(json.dumps(record()))
    assert parsed.run == "7-linux" and list(parsed.archives) == ["tools_run_generic.tar.zst"]


@pytest.mark.parametrize(
    ("run", "name", "words"),
    [
        ("../../etc", "tools_run_generic.tar.zst", "run '../../etc'"),
        ("/abs/olute", "tools_run_generic.tar.zst", "run '/abs/olute'"),
        ("7-linux\n::error::x", "tools_run_generic.tar.zst", "run '7-linux\\n:\\:error"),
        ("7-linux", "../../outside.tar.zst", "archive name '../../outside.tar.zst'"),
        ("7-linux", "a/b.tar.zst", "archive name 'a/b.tar.zst'"),
        ("7-linux", "..", "archive name '..'"),
        ("7-linux", "x\x00y", "archive name 'x\\x00y'"),
    ],
    ids=["dotdot-run", "absolute-run", "command-run", "dotdot-name", "slash-name", "dotdot", "nul"],
)
def test_hostile_records_are_refused(run: str, name: str, words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_record(json.dumps(record(run, name)))
    message = str(info.value)
    assert words in message
    assert "\n" not in message and CommandGuard().feed(message + "\n") == message + "\n"


def test_a_hostile_record_in_the_store_is_a_miss(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalStore(root)
    (tmp_path / "outside.tar.zst").write_bytes(b"abc")
    text = json.dumps(record("7-linux", "../../outside.tar.zst"))
    store.write_text(CACHE_ROOT, record_name("tools", "", KEY), text)
    found = lookup(store, "tools", "", KEY)
    assert found.record is None and "malformed" in found.reason
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        f"cache/{record_name('tools', '', KEY)}"
    ]


def test_explain_lines_show_hostile_paths_as_text() -> None:
    name = "unclaimed:a\n::error::x/"
    lines = explain_lines({name: "1" * 40}, {name: "2" * 40}, {name: "tree"})
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith("a\\n:\\:error:\\:x/: tree 111111111111 -> 222222222222")


def test_the_plan_summary_shows_hostile_reasons_as_text() -> None:
    job = JobCache("tools", "", KEY, "build", reason="a|b\n::error::x <img>")
    text = plan_markdown(CachePlan("c" * 40, "linux", "auto", (job,)))
    row = text.splitlines()[-1]
    assert "::" not in row and "<img>" not in row and row.count("|") == 5
