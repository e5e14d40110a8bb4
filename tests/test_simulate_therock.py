"""``rockshard simulate`` on TheRock's real topology, published timings and history; the
README's headline table is what its command prints today."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from action_lib.cli.main import main

pytestmark = pytest.mark.therock

README_BLOCK = re.compile(
    r"<!-- simulate:begin -->\n```sh\n(?P<command>.*?)\n```\n\n(?P<output>.*?)\n<!-- simulate:end -->",
    re.DOTALL,
)


def test_published_timings_lack_stages(
    therock_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--topology", str(therock_dir / "BUILD_TOPOLOGY.toml")]
    argv += ["--timings", str(therock_dir / "published_timings.json"), "--tier", "presubmit"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "published_timings.json: no duration for" in err[0]
    for stage in ("cv-libs", "debug-tools", "media-libs", "profiler-apps", "runtime-tests"):
        assert stage in err[0]
    assert main([*argv, "--only-timed", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stages"] == ["compiler-runtime", "comm-libs", "math-libs", "storage-libs"]
    assert {x["stage"] for x in data["left_out"]} >= {"cv-libs", "debug-tools"}
    assert all(x["why"] == "no timings" for x in data["left_out"])
    minutes = {(j["stage"], j["family"]): j["seconds"] / 60 for j in data["jobs"]}
    # the published figures, cold: compiler-runtime 19.1, math-libs per family, comm-libs 52
    assert minutes[("compiler-runtime", "")] == pytest.approx(19.1)
    assert minutes[("math-libs", "gfx94X-dcgpu")] == 79
    assert minutes[("math-libs", "gfx1151")] == 15
    assert minutes[("comm-libs", "")] == 52
    one = data["one_commit"]
    # compiler-runtime, then the slowest of wave 1 (math-libs gfx94X-dcgpu, 79 min)
    assert one["waves"]["wall_seconds"] == pytest.approx((19.1 + 79) * 60)
    assert one["dag"]["wall_seconds"] == one["waves"]["wall_seconds"]  # a star: waves are exact
    # one job per family builds compiler-runtime, comm-libs and storage-libs again each time
    generic = 19.1 + 52 + 1.15
    total = 4 * generic + 79 + 23 + 15 + 42
    assert one["monolithic"]["runner_seconds"] == pytest.approx(total * 60)


def test_readme_headline_table_is_current(
    repo_root: Path,
    therock_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    found = README_BLOCK.search((repo_root / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md has no <!-- simulate:begin --> block"
    command = shlex.split(found.group("command").replace("\\\n", " "))
    assert command[:2] == ["rockshard", "simulate"]
    assert "../shared/therock/published_timings.json" in command
    monkeypatch.chdir(repo_root)
    svg = tmp_path / "history.svg"
    assert main([*command[1:], "--svg", str(svg)]) == 0
    output = capsys.readouterr().out
    assert output.strip() == found.group("output").strip(), (
        "the README's table is stale; paste the command's output:\n" + output
    )
    chart = svg.read_text(encoding="utf-8")
    assert chart.count("<polyline") == 4 and chart.count(",") > 4 * 600
