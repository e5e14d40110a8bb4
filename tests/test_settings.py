"""The settings layer: one precedence order, every value with its origin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from action_lib.cli import common
from action_lib.errors import InputError
from action_lib.settings import stage as stage_settings
from action_lib.settings.layers import Layers, Source, action_inputs
from action_lib.settings.pipeline_file import load_pipeline_config
from action_lib.settings.store import store_settings

CASES = [
    # flags, inputs, environ -> (value, source, origin)
    ({"run_id": "f"}, {"run_id": "i"}, {"THEROCK_RUN_ID": "e"}, ("f", Source.FLAG, "--run-id")),
    ({}, {"run_id": "i"}, {"THEROCK_RUN_ID": "e"}, ("i", Source.INPUT, "run_id")),
    ({}, {}, {"THEROCK_RUN_ID": "e", "GITHUB_RUN_ID": "g"}, ("e", Source.ENV, "THEROCK_RUN_ID")),
    ({}, {}, {"GITHUB_RUN_ID": "g"}, ("g", Source.ENV, "GITHUB_RUN_ID")),
    ({"run_id": None}, {"run_id": ""}, {"THEROCK_RUN_ID": ""}, ("local", Source.DEFAULT, "")),
]


@pytest.mark.parametrize(
    ("flags", "inputs", "environ", "expected"),
    CASES,
    ids=["flag-wins", "input-over-env", "first-env", "second-env", "empty-is-unset"],
)
def test_precedence_and_provenance(
    flags: dict[str, object],
    inputs: dict[str, str],
    environ: dict[str, str],
    expected: tuple[str, Source, str],
) -> None:
    settings = store_settings(Layers(flags=flags, inputs=inputs, environ=environ))
    run_id = settings.run_id
    assert (run_id.value, run_id.source, run_id.origin) == expected
    assert run_id.describe().startswith(expected[0])


def test_settings_file_layer_sits_between_environment_and_default() -> None:
    layers = Layers(environ={"X": "env"}, file={"key": ("file", "pipeline.toml:3")})
    assert layers.resolve("d", env=("X",), file="key").value == "env"
    from_file = Layers(file={"key": ("file", "pipeline.toml:3")}).resolve("d", file="key")
    assert (from_file.value, from_file.source, from_file.origin) == (
        "file",
        Source.FILE,
        "pipeline.toml:3",
    )
    assert Layers().resolve("d", file="key").source is Source.DEFAULT


def test_local_store_and_run_folder(tmp_path: Path) -> None:
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    settings = store_settings(Layers(flags={"platform": "windows"}, environ=environ))
    if sys.platform != "win32":
        assert settings.local_staging_dir.value == tmp_path / "cache" / "rockshard" / "artifacts"
    assert settings.run_folder == "local-windows"
    staged = store_settings(Layers(environ={"THEROCK_LOCAL_STAGING_DIR": str(tmp_path / "s")}))
    assert staged.local_staging_dir.value == tmp_path / "s"
    assert staged.local_staging_dir.origin == "THEROCK_LOCAL_STAGING_DIR"
    external = store_settings(
        Layers(flags={"external_repo": "acme/fork", "run_id": "7", "platform": "linux"})
    )
    assert external.run_folder == "acme-fork/7-linux"


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (Layers(inputs={"jobs": "many"}), "input 'jobs': invalid value 'many'"),
        (Layers(inputs={"jobs": "0"}), "input 'jobs': invalid value '0'"),
        (Layers(inputs={"platform": "macos"}), "unknown platform 'macos'"),
        (
            Layers(environ={"ROCKSHARD_S3_RETRY_SECONDS": "soon"}),
            "ROCKSHARD_S3_RETRY_SECONDS: invalid value 'soon'",
        ),
        (Layers(flags={"external_repo": "nobody"}), "is not OWNER/REPO"),
    ],
    ids=["jobs-not-int", "jobs-zero", "platform", "retry-env", "external-repo"],
)
def test_bad_values_name_their_origin(layers: Layers, message: str) -> None:
    with pytest.raises(InputError, match=message):
        store_settings(layers).run_folder  # noqa: B018 - the property validates


def test_action_inputs_read_only_what_is_asked() -> None:
    environ = {"INPUT_STAGE": " tools ", "INPUT_RUN_ID": "", "INPUT_OTHER": "x"}
    assert action_inputs(environ, ("stage", "run_id")) == {"stage": "tools"}


def test_stage_build_dir_and_dialect(tmp_path: Path) -> None:
    given = stage_settings.build_dir(Layers(flags={"build_dir": tmp_path}), "tools", "")
    assert (given.value, given.source) == (tmp_path, Source.FLAG)
    runner = stage_settings.build_dir(
        Layers(environ={"RUNNER_TEMP": str(tmp_path)}), "math-libs", "gfx94X-dcgpu"
    )
    assert runner.value == tmp_path / "rockshard-build" / "stage-math-libs-gfx94X-dcgpu"
    assert runner.origin == "RUNNER_TEMP"
    assert stage_settings.build_dir(Layers(), "tools", "").value == Path("build/stage-tools")
    topology = tmp_path / "BUILD_TOPOLOGY.toml"
    assert stage_settings.dialect(Layers(), topology).value == "therock"
    (tmp_path / "cmake").mkdir()
    (tmp_path / "cmake" / "rockshard_topology.cmake").write_text("")
    guessed = stage_settings.dialect(Layers(), topology)
    assert (guessed.value, guessed.source) == ("rockshard", Source.DEFAULT)
    assert stage_settings.dialect(Layers(flags={"dialect": "therock"}), topology).value == "therock"


def test_family_alias_and_one_family_only() -> None:
    parser = argparse.ArgumentParser()
    common.add_family_arg(parser)
    assert parser.parse_args(["--amdgpu-families", "gfx1151"]).amdgpu_family == "gfx1151"
    assert "--amdgpu-families" not in parser.format_help()
    args = parser.parse_args(["--amdgpu-family", "a,b"])
    with pytest.raises(InputError, match="one GPU family; got a, b"):
        common.one_family(Layers(flags=vars(args)))


@pytest.mark.parametrize(
    ("flag", "text", "expected"),
    [
        (None, "", 6),
        (None, "[workflow]\nmax-waves = 3\n", 3),
        (4, "[workflow]\nmax-waves = 3\n", 4),
    ],
    ids=["default", "settings-file", "flag-over-file"],
)
def test_max_waves_layers(tmp_path: Path, flag: int | None, text: str, expected: int) -> None:
    settings = tmp_path / "rockshard-pipeline.toml"
    settings.write_text(text, encoding="utf-8")
    config = load_pipeline_config(settings, tmp_path / "BUILD_TOPOLOGY.toml", ())
    args = argparse.Namespace(max_waves=flag)
    assert common.max_waves(args, config) == expected


def test_max_waves_out_of_range_names_the_flag(tmp_path: Path) -> None:
    config = load_pipeline_config(None, tmp_path / "BUILD_TOPOLOGY.toml", ())
    with pytest.raises(InputError, match=r"max-waves 13 \(from flag --max-waves\) must be from 1"):
        common.max_waves(argparse.Namespace(max_waves=13), config)
