"""Job matrices per wave, pipeline settings, and their limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.errors import FindingsError, InputError
from action_lib.pipeline.config import PipelineConfig, parse_pipeline_config
from action_lib.pipeline.matrix import (
    MAX_MATRIX_ENTRIES,
    MAX_OUTPUT_BYTES,
    check_job_outputs,
    outputs_size,
    plan_pipeline,
    wave_outputs,
)
from action_lib.topology import Conditions, Topology, load_topology
from action_lib.topology import queries as q

FAMILIES = ("gfx110X-all", "gfx94X-dcgpu")


@pytest.fixture(scope="module")
def own(repo_root: Path) -> Topology:
    return load_topology(repo_root / "BUILD_TOPOLOGY.toml")


def test_waves_fan_out_per_arch_stages(own: Topology) -> None:
    plan = plan_pipeline(own, Conditions("linux"), FAMILIES, PipelineConfig())
    stages_per_wave = [[(e.stage, e.family) for e in wave] for wave in plan.waves]
    assert stages_per_wave[2] == [
        ("comm-libs", ""),
        ("math-libs", FAMILIES[0]),
        ("math-libs", FAMILIES[1]),
    ]
    jobs = [e for wave in plan.waves for e in wave]
    assert len(jobs) == len(q.expand_jobs(own, FAMILIES, Conditions("linux")))
    # every job's upstream stages are in earlier waves
    wave_of = {e.stage: k for k, wave in enumerate(plan.waves) for e in wave}
    for stage, k in wave_of.items():
        assert all(wave_of[u] < k for u in q.stage_graph(own, Conditions("linux"))[stage])


def test_windows_has_no_job_for_a_stage_that_builds_nothing(own: Topology) -> None:
    plan = plan_pipeline(own, Conditions("windows"), FAMILIES, PipelineConfig())
    stages = {e.stage for wave in plan.waves for e in wave}
    assert "comm-libs" not in stages
    assert stages == set(q.active_stages(own, Conditions("windows")))


def test_settings_are_layered(own: Topology) -> None:
    text = """
[defaults]
timeout-minutes = 30
[platforms.linux]
runs-on = "linux-big"
[stages.math-libs]
timeout-minutes = 240
[stages.math-libs.platforms.windows]
runs-on = "windows-gpu"
"""
    config = parse_pipeline_config(text, "p.toml", tuple(own.build_stages))
    assert config.settings("foundation", "linux").runs_on == "linux-big"
    assert config.settings("foundation", "linux").timeout_minutes == 30
    assert config.settings("math-libs", "linux").timeout_minutes == 240
    assert config.settings("math-libs", "windows").runs_on == "windows-gpu"
    assert config.settings("foundation", "windows").runs_on == "windows-latest"


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("[defaults]\ntimeout = 3\n", "did you mean 'timeout-minutes'", 2),
        ("[stages.math-lib]\nruns-on = 'x'\n", "did you mean 'math-libs'", 1),
        ("[platforms.linx]\n", "did you mean 'linux'", 1),
        ("[defaults]\ntimeout-minutes = 0\n", "from 1 to 4320", 2),
        ("[workflow]\nmax-waves = 40\n", "from 1 to 12", 2),
        ("[default]\n", "did you mean 'defaults'", 1),
        ("[defaults]\nruns-on = 'x'\ntimeout-minutes = [\n", "malformed TOML", 3),
        ("# settings\nplatforms = 3\n", "[platforms] must be a table", 2),
        ("stages = 'x'\n", "[stages] must be a table", 1),
        ("[stages.math-libs]\nplatforms = 3\n", "[stages.math-libs.platforms] must be", 2),
        ("[stages.math-libs.platforms.windos]\n", "did you mean 'windows'", 1),
        ("[stages.math-libs.platforms.windows]\nruns-on = ''\n", "non-empty label", 2),
        ("[workflow]\nmax-wave = 3\n", "did you mean 'max-waves'", 2),
        ("workflow = 3\n", "[workflow] must be a table", 1),
        ("[defaults]\n[stages]\nmath-libs = { timeout = 3 }\n", "did you mean 'timeout-", 3),
        ("[workflow]\nmax-timeout-minutes = 9000\n", "from 1 to 4320", 2),
        ("[platforms.linux]\nruns-on = []\n", "non-empty list of labels", 2),
    ],
    ids=[
        "key-typo",
        "stage-typo",
        "platform-typo",
        "bad-timeout",
        "too-many-waves",
        "table-typo",
        "syntax",
        "platforms-not-a-table",
        "stages-not-a-table",
        "stage-platforms-not-a-table",
        "stage-platform-typo",
        "stage-platform-bad-runner",
        "workflow-key-typo",
        "workflow-not-a-table",
        "inline-table",
        "bad-timeout-cap",
        "empty-label-list",
    ],
)
def test_settings_findings_are_located(own: Topology, text: str, fragment: str, line: int) -> None:
    with pytest.raises(FindingsError) as info:
        parse_pipeline_config(text, "p.toml", tuple(own.build_stages))
    formatted = [f.format() for f in info.value.findings]
    assert any(fragment in f and f.startswith(f"p.toml:{line}:") for f in formatted), formatted


def test_wave_outputs_pad_to_the_workflow(own: Topology) -> None:
    plan = plan_pipeline(own, Conditions("linux"), FAMILIES, PipelineConfig())
    outputs = wave_outputs(plan, 6)
    assert outputs["wave-4"] == "[]" and outputs["wave-5"] == "[]"
    assert json.loads(outputs["wave-0"]) == [
        {
            "stage": "foundation",
            "family": "",
            "runs-on": "ubuntu-latest",
            "timeout-minutes": 60,
            "sparse-checkout": "",
        }
    ]
    assert json.loads(outputs["waves"])[3] == ["ml-libs", "tools"]


def test_too_deep_for_the_workflow(own: Topology) -> None:
    plan = plan_pipeline(own, Conditions("linux"), FAMILIES, PipelineConfig())
    with pytest.raises(InputError, match="needs 4 waves but the workflow has 3"):
        wave_outputs(plan, 3)


def test_matrix_over_256_entries_is_refused(own: Topology) -> None:
    families = [f"fam-{i}" for i in range(MAX_MATRIX_ENTRIES)]
    plan = plan_pipeline(own, Conditions("linux"), families, PipelineConfig())
    with pytest.raises(InputError, match="at most 256"):
        wave_outputs(plan, 6)


def test_per_arch_without_families_is_refused(own: Topology) -> None:
    with pytest.raises(InputError, match="no GPU families"):
        plan_pipeline(own, Conditions("linux"), (), PipelineConfig())


def test_stage_subset(own: Topology) -> None:
    plan = plan_pipeline(own, Conditions("linux"), FAMILIES, PipelineConfig(), ("tools", "ml-libs"))
    assert [[e.stage for e in w] for w in plan.waves] == [["ml-libs", "ml-libs", "tools"]]


def test_cli_gha_output(
    repo_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = tmp_path / "out"
    summary = tmp_path / "summary"
    output.write_text("")
    summary.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    status = main(
        [
            "matrix",
            "--topology",
            str(repo_root / "BUILD_TOPOLOGY.toml"),
            "--platform",
            "linux",
            "--families-or-tier",
            "gfx110X-all;gfx94X-dcgpu",
            "--gha-output",
            "--format",
            "json",
        ]
    )
    assert status == 0
    written = output.read_text()
    assert "wave-0<<ghadelimiter_" in written and "wave-5<<" in written
    assert "| 2 | math-libs | gfx94X-dcgpu | ubuntu-latest | 60 |" in summary.read_text()
    assert json.loads(capsys.readouterr().out)["families"] == ["gfx110X-all", "gfx94X-dcgpu"]


def test_cli_tier(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "matrix",
                "--topology",
                str(repo_root / "BUILD_TOPOLOGY.toml"),
                "--platform",
                "linux",
                "--tier",
                "presubmit",
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["families"]


def test_cli_unknown_family(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "matrix",
                "--topology",
                str(repo_root / "BUILD_TOPOLOGY.toml"),
                "--platform",
                "linux",
                "--amdgpu-families",
                "gfx110X-al",
            ]
        )
        == 2
    )
    assert "did you mean 'gfx110X-all'" in capsys.readouterr().err


@pytest.mark.therock
def test_therock_windows_matrix_is_the_windows_stage_set(
    therock_topology_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topology = load_topology(therock_topology_path)
    assert (
        main(
            [
                "matrix",
                "--topology",
                str(therock_topology_path),
                "--platform",
                "windows",
                "--tier",
                "nightly",
                "--format",
                "json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    stages = {e["stage"] for wave in data["waves"] for e in wave}
    windows = Conditions("windows")
    assert stages == {
        s for s in topology.build_stages if q.produced_artifacts(topology, s, windows)
    }
    assert "media-libs" not in stages
    per_arch = [e for wave in data["waves"] for e in wave if e["stage"] == "math-libs"]
    assert sorted(e["family"] for e in per_arch) == sorted(data["families"])
    assert not set(data["families"]) & {"gfx94X-dcgpu", "gfx950-dcgpu"}


def test_runs_on_takes_a_list_of_labels(own: Topology) -> None:
    text = '[platforms.linux]\nruns-on = ["self-hosted", "linux", "gpu"]\n'
    config = parse_pipeline_config(text, "p.toml", tuple(own.build_stages))
    assert config.settings("math-libs", "linux").runs_on == ("self-hosted", "linux", "gpu")
    plan = plan_pipeline(own, Conditions("linux"), FAMILIES, config)
    entry = json.loads(wave_outputs(plan, 6)["wave-0"])[0]
    assert entry["runs-on"] == ["self-hosted", "linux", "gpu"]  # a JSON list for the matrix


def test_a_comma_separated_runs_on_is_refused_with_the_list_to_write(own: Topology) -> None:
    with pytest.raises(FindingsError) as info:
        parse_pipeline_config('[defaults]\nruns-on = "self-hosted, gpu"\n', "p.toml")
    message = info.value.findings[0].format()
    assert message.startswith("p.toml:2:") and 'runs-on = ["self-hosted", "gpu"]' in message


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ("[stages.math-libs]\ntimeout-minutes = 400\n", False),
        ('[stages.math-libs]\ntimeout-minutes = 400\nruns-on = ["self-hosted", "big"]\n', True),
        (
            "[workflow]\nmax-timeout-minutes = 600\n[stages.math-libs]\ntimeout-minutes = 400\n",
            True,
        ),
        ("[stages.math-libs]\ntimeout-minutes = 360\n", True),
    ],
    ids=["hosted-over-360", "self-hosted-label", "raised-cap", "hosted-at-360"],
)
def test_timeouts_are_capped_by_the_runner(own: Topology, text: str, allowed: bool) -> None:
    config = parse_pipeline_config(text, "p.toml", tuple(own.build_stages))
    if allowed:
        plan_pipeline(own, Conditions("linux"), FAMILIES, config)
        return
    with pytest.raises(InputError) as info:
        plan_pipeline(own, Conditions("linux"), FAMILIES, config)
    message = str(info.value)
    assert "stage math-libs on linux: timeout-minutes 400" in message
    assert "[stages.math-libs] in p.toml:2" in message and "self-hosted" in message


def test_job_outputs_are_counted_together_as_utf16() -> None:
    # 'x' is 2 bytes in UTF-16; a character outside the BMP (an emoji) is 4, as in UTF-8.
    assert outputs_size({"a": "x"}) == 4
    assert outputs_size({"a": "\U0001f600"}) == 2 + 4
    assert outputs_size({"ab": "é"}) == 4 + 2  # 2 bytes in UTF-8 as well
    half = MAX_OUTPUT_BYTES // 4  # characters: each output alone is under the limit in UTF-8
    check_job_outputs({"wave-0": "x" * half})
    with pytest.raises(InputError, match=r"all of a job's outputs together \(largest: wave-1\)"):
        check_job_outputs({"wave-0": "x" * half, "wave-1": "x" * (half + 10)})


def test_the_cli_writes_no_output_when_all_of_them_are_too_large(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "out"
    output.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setattr("action_lib.pipeline.matrix.MAX_OUTPUT_BYTES", 2000)
    argv = ["matrix", "--topology", str(repo_root / "BUILD_TOPOLOGY.toml"), "--platform", "linux"]
    assert main([*argv, "--tier", "nightly", "--gha-output", "--repo", str(repo_root)]) == 2
    assert output.read_text() == ""
