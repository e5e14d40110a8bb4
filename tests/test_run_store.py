"""The store of a run by its trust level, and the setup job that fails at once without one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from action_lib.cli.main import main
from action_lib.errors import FindingsError, InputError
from action_lib.pipeline.config import parse_pipeline_config
from action_lib.pipeline.run_store import StoreChoice, choose_run_store, missing_store_message
from action_lib.pipeline.trust import event_trust
from action_lib.settings.layers import Layers, Source
from action_lib.settings.run_store import (
    runner,
    setup_settings,
    source_date_epoch,
    with_store_table,
)
from tests.test_artifact_gha import outputs

REPO = {"full_name": "acme/rock", "default_branch": "main"}
PUSH = event_trust("push", {"repository": REPO}, ref="refs/heads/main")
FORK_PR = event_trust(
    "pull_request",
    {
        "pull_request": {
            "head": {"repo": {"full_name": "mallory/rock", "fork": True}},
            "base": {"repo": {"full_name": "acme/rock"}},
        }
    },
)
CHOICE = StoreChoice(
    trusted="s3://acme-ci/rock/",
    untrusted="s3://acme-ci-external/rock",
    trusted_role="arn:aws:iam::1:role/ci",
    untrusted_role="arn:aws:iam::1:role/ci-external",
    region="us-east-2",
)


def test_trusted_runs_use_the_trusted_store_without_prefix() -> None:
    chosen = choose_run_store(PUSH, CHOICE, repository="acme/rock", shared_required=True)
    assert (chosen.url, chosen.external_repo, chosen.role) == (
        "s3://acme-ci/rock",
        "",
        "arn:aws:iam::1:role/ci",
    )
    assert chosen.location("42-linux") == "s3://acme-ci/rock/42-linux"


def test_untrusted_runs_write_their_own_store_under_owner_repo() -> None:
    chosen = choose_run_store(FORK_PR, CHOICE, repository="acme/rock", shared_required=True)
    assert (chosen.url, chosen.external_repo, chosen.role) == (
        "s3://acme-ci-external/rock",
        "acme/rock",
        "arn:aws:iam::1:role/ci-external",
    )
    assert chosen.trusted_url == "s3://acme-ci/rock"  # readable, never written
    assert chosen.location("42-linux") == "s3://acme-ci-external/rock/acme-rock/42-linux"
    assert not chosen.location("42-linux").startswith(chosen.trusted_url + "/")


@pytest.mark.parametrize(
    ("trust", "configured", "key", "variable"),
    [
        (PUSH, StoreChoice(untrusted="s3://x/y"), "[store] trusted", "ROCKSHARD_STORE"),
        (
            FORK_PR,
            StoreChoice(trusted="s3://x/y"),
            "[store] untrusted",
            "ROCKSHARD_STORE_UNTRUSTED",
        ),
    ],
    ids=["trusted", "untrusted"],
)
def test_on_github_a_missing_store_is_one_line_saying_what_to_set(
    trust: Any, configured: StoreChoice, key: str, variable: str
) -> None:
    with pytest.raises(InputError) as info:
        choose_run_store(trust, configured, repository="acme/rock", shared_required=True)
    message = str(info.value)
    assert "\n" not in message
    assert key in message and variable in message and "docs/github.md" in message
    # off GitHub (act, a terminal) the jobs share the local store instead
    local = choose_run_store(trust, configured, repository="acme/rock", shared_required=False)
    assert local.url == "" and local.external_repo == ""


def test_the_untrusted_store_may_not_be_the_trusted_one() -> None:
    same = StoreChoice(
        trusted="s3://b/ci", untrusted="s3://b/ci/", trusted_origin="ROCKSHARD_STORE"
    )
    with pytest.raises(InputError, match="must never write where trusted runs read"):
        choose_run_store(PUSH, same, repository="acme/rock", shared_required=True)


def test_a_bad_repository_name_is_refused() -> None:
    with pytest.raises(InputError, match="not OWNER/REPO"):
        choose_run_store(FORK_PR, CHOICE, repository="rock", shared_required=True)


def test_missing_store_message_mentions_forks_only_for_untrusted_runs() -> None:
    assert "forks" not in missing_store_message(PUSH, "GitHub")
    assert "not passed to pull requests from forks" in missing_store_message(FORK_PR, "GitHub")


STORE_TOML = """
[store]
trusted = "s3://file-trusted/ci"
untrusted = "s3://file-untrusted/ci"
region = "eu-west-1"
"""


def test_store_settings_precedence_flag_env_file(tmp_path: Path) -> None:
    config = parse_pipeline_config(STORE_TOML, "rockshard-pipeline.toml")
    flags: dict[str, object] = {"store": "s3://flag/ci"}
    env = {"ROCKSHARD_STORE": "s3://env/ci", "ROCKSHARD_STORE_UNTRUSTED": "s3://env-pr/ci"}
    lay = with_store_table(Layers(flags=flags, environ=env), config.store, config.path)
    settings = setup_settings(lay)
    assert (settings.trusted.value, settings.trusted.source) == ("s3://flag/ci", Source.FLAG)
    assert settings.untrusted.value == "s3://env-pr/ci"
    assert settings.untrusted.origin == "ROCKSHARD_STORE_UNTRUSTED"
    assert settings.region.value == "eu-west-1"
    assert settings.region.origin == "rockshard-pipeline.toml:5"  # located in the file
    only_file = setup_settings(with_store_table(Layers(), config.store, config.path))
    assert only_file.untrusted.origin == "rockshard-pipeline.toml:4"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[store]\ntrusted = 3\n", "must be a string"),
        ('[store]\ntrustd = "s3://b"\n', "did you mean 'trusted'"),
        ('[store]\nuntrusted = "s3:///ci"\n', "names no bucket"),
    ],
    ids=["type", "typo", "no-bucket"],
)
def test_store_table_findings_are_located(text: str, fragment: str) -> None:
    with pytest.raises(FindingsError) as info:
        parse_pipeline_config(text, "p.toml")
    formatted = [f.format() for f in info.value.findings]
    assert any(fragment in f and f.startswith("p.toml:2:") for f in formatted), formatted


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "local"),
        ({"GITHUB_ACTIONS": "true"}, "github"),
        ({"GITHUB_ACTIONS": "true", "ACT": "true"}, "act"),
        ({"GITHUB_ACTIONS": "true", "ACT": "true", "ROCKSHARD_RUNNER": "github"}, "github"),
    ],
    ids=["terminal", "github", "act", "act-rehearsing-github"],
)
def test_runner_detection(env: dict[str, str], expected: str) -> None:
    assert runner(Layers(environ=env)).value == expected


def test_source_date_epoch_from_env_else_commit() -> None:
    assert source_date_epoch(Layers(environ={"SOURCE_DATE_EPOCH": "1700000000"}), 5).value == (
        1700000000
    )
    assert source_date_epoch(Layers(), 1234).value == 1234
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch(Layers(environ={"SOURCE_DATE_EPOCH": "soon"}), None)


def _github_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, event: dict[str, Any]) -> Path:
    for key in ("ACT", "ROCKSHARD_STORE", "ROCKSHARD_STORE_UNTRUSTED", "ROCKSHARD_RUNNER"):
        monkeypatch.delenv(key, raising=False)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    output = tmp_path / "output"
    output.write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/rock")
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    return output


def _matrix_argv(repo_root: Path, *extra: str) -> list[str]:
    return [
        "matrix",
        "--topology",
        str(repo_root / "BUILD_TOPOLOGY.toml"),
        "--platform",
        "linux",
        "--amdgpu-families",
        "gfx94X-dcgpu",
        "--gha-output",
        "--repo",
        str(repo_root),
        *extra,
    ]


def test_setup_job_fails_at_once_on_github_without_a_store(
    repo_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = _github_env(monkeypatch, tmp_path, {"repository": REPO})
    assert main(_matrix_argv(repo_root)) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("rockshard:")]
    assert len(errors) == 1 and "ROCKSHARD_STORE" in errors[0], captured.err
    assert "::error::no shared artifact store" in captured.out  # the annotation
    assert output.read_text(encoding="utf-8") == ""  # no output half-written


def test_setup_job_outputs_the_runs_store_and_trust(
    repo_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = _github_env(monkeypatch, tmp_path, {"repository": REPO})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(_matrix_argv(repo_root, "--store", "s3://acme-ci/rock")) == 0
    capsys.readouterr()
    values = outputs(output)
    assert values["store"] == "s3://acme-ci/rock"
    assert values["external-repo"] == ""
    assert values["run-location"] == "s3://acme-ci/rock/77-linux"
    assert (values["trusted"], values["publishes"]) == ("true", "true")
    assert values["source-date-epoch"] == "1700000000"
