"""Arguments shared by several commands, and turning them into settings.

Settings-backed flags default to None so that the settings layer can tell a flag that was given
from one that was not (:mod:`action_lib.settings.layers`). Composite actions pass their inputs
as flags; ``--gha`` (kept for callers of earlier versions) also reads ``INPUT_*`` variables.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from action_lib.edges.retry import stderr_reporter
from action_lib.errors import InputError
from action_lib.inputs.lists import parse_list
from action_lib.inputs.untrusted import escape
from action_lib.jobs.model import RunRef, StageJob
from action_lib.pipeline.config import DEFAULT_MAX_WAVES, MAX_WAVES, PipelineConfig
from action_lib.settings import environment
from action_lib.settings.layers import Layers, Setting, action_inputs
from action_lib.settings.store import StoreSettings, store_settings
from action_lib.stores.base import Store, open_store
from action_lib.topology import Conditions, Topology, load_topology
from action_lib.topology.model import PLATFORMS, PROCESSORS

DEFAULT_TOPOLOGY = Path("BUILD_TOPOLOGY.toml")
# The action inputs a command may read under --gha (INPUT_<NAME>).
ACTION_INPUTS = (
    "stage",
    "amdgpu_family",
    "run_id",
    "platform",
    "store",
    "build_dir",
    "output_dir",
    "topology",
    "jobs",
    "bootstrap",
)


def add_topology_arg(parser: argparse.ArgumentParser) -> None:
    """``--topology PATH`` (default ./BUILD_TOPOLOGY.toml)."""
    parser.add_argument(
        "--topology",
        type=Path,
        default=DEFAULT_TOPOLOGY,
        help="path to BUILD_TOPOLOGY.toml (default: %(default)s)",
    )


def add_condition_args(parser: argparse.ArgumentParser) -> None:
    """``--platform``, ``--processor``, ``--flag`` (repeatable)."""
    parser.add_argument("--platform", choices=PLATFORMS, help="build platform (default: any)")
    parser.add_argument("--processor", choices=PROCESSORS, help="CPU processor (default: any)")
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        metavar="NAME",
        help="a THEROCK_FLAG_<NAME> given as enabled (repeatable)",
    )


def add_format_arg(parser: argparse.ArgumentParser, *extra: str) -> None:
    """``--format text|json`` (plus extra choices)."""
    parser.add_argument("--format", choices=("text", "json", *extra), default="text")


def add_family_arg(parser: argparse.ArgumentParser, *, help: str | None = None) -> None:
    """``--amdgpu-family F``: the one GPU family of a per-arch stage job.

    ``--amdgpu-families`` is kept as a hidden alias (the spelling of earlier versions).
    """
    parser.add_argument(
        "--amdgpu-family",
        dest="amdgpu_family",
        default=None,
        metavar="FAMILY",
        help=help or "the GPU family of a per-arch stage",
    )
    parser.add_argument("--amdgpu-families", dest="amdgpu_family", help=argparse.SUPPRESS)


def add_store_args(parser: argparse.ArgumentParser, *, conditions_too: bool = True) -> None:
    """The store, run and platform arguments of every command that moves artifacts."""
    if conditions_too:
        add_condition_args(parser)
    else:
        parser.add_argument("--platform", choices=PLATFORMS, help="default: this host's")
    parser.add_argument(
        "--run-id", help="default: THEROCK_RUN_ID, else GITHUB_RUN_ID, else 'local'"
    )
    parser.add_argument(
        "--store", default=None, help="s3://bucket/prefix, or a directory; empty: the local store"
    )
    parser.add_argument(
        "--local-staging-dir",
        type=Path,
        help="the local store (default: THEROCK_LOCAL_STAGING_DIR, else a per-user cache dir)",
    )
    parser.add_argument("--endpoint-url", help="S3-compatible endpoint (default: AWS_ENDPOINT_URL)")
    parser.add_argument(
        "--external-repo",
        metavar="OWNER/REPO",
        help="runs of another repository: OWNER-REPO/ prefix",
    )
    parser.add_argument(
        "--gha", action="store_true", help="also read action inputs (INPUT_*); implies --gha-output"
    )
    add_gha_output_arg(parser)
    add_format_arg(parser)


def add_gha_output_arg(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--gha-output``: write step outputs and a job summary (in a composite action)."""
    parser.add_argument(
        "--gha-output",
        action="store_true",
        help=help or "set step outputs and append to the job summary",
    )


def gha_output(args: argparse.Namespace) -> bool:
    """True when the command writes step outputs (``--gha-output``, or ``--gha``)."""
    return bool(getattr(args, "gha_output", False) or getattr(args, "gha", False))


def layers(args: argparse.Namespace) -> Layers:
    """The settings layers of one command: its flags, its action inputs (``--gha``), the
    environment."""
    environ = environment.environ()
    inputs = action_inputs(environ, ACTION_INPUTS) if getattr(args, "gha", False) else {}
    flags = {k: v for k, v in vars(args).items() if k != "handler"}
    return Layers(flags=flags, inputs=inputs, environ=environ)


def conditions(args: argparse.Namespace) -> Conditions:
    """The Conditions named by the condition arguments."""
    return Conditions(args.platform, args.processor, frozenset(args.flag))


def topology(args: argparse.Namespace) -> Topology:
    """Load and validate the topology named by ``--topology``."""
    loaded: Topology = load_topology(args.topology)
    return loaded


def setting_path(lay: Layers, name: str, default: Path | None = None) -> Setting[Path | None]:
    """A path setting from its flag or action input."""
    return lay.resolve(default, flag=name, input=name, parse=Path)


def resolved_topology(args: argparse.Namespace, lay: Layers) -> Topology:
    """The topology of a command that also reads action inputs: ``--topology`` when given on
    the command line, else the ``topology`` input, else ./BUILD_TOPOLOGY.toml."""
    if args.topology == DEFAULT_TOPOLOGY and lay.inputs.get("topology"):
        args.topology = Path(lay.inputs["topology"])
    return topology(args)


def store_and_run(args: argparse.Namespace, lay: Layers | None = None) -> StoreSettings:
    """The store settings of a command."""
    return store_settings(lay if lay is not None else layers(args))


def open_run(settings: StoreSettings) -> RunRef:
    """Open the store the settings name, at their run folder."""
    store = open_store(
        settings.url.value,
        local_default=settings.local_staging_dir.value,
        endpoint_url=settings.endpoint_url.value or None,
        jobs=settings.jobs.value,
        retry_budget=settings.retry_seconds.value,
        on_retry=stderr_reporter(),
        on_notice=_notice,
    )
    return RunRef(store, settings.run_folder)


def _notice(text: str) -> None:
    sys.stderr.write(f"rockshard: note: {escape(text)}\n")


def job_conditions(args: argparse.Namespace, settings: StoreSettings) -> Conditions:
    """A stage job's Conditions: the settings' platform, ``--processor``, ``--flag``."""
    return Conditions(
        settings.platform.value,
        getattr(args, "processor", None),
        frozenset(getattr(args, "flag", None) or ()),
    )


def one_family(lay: Layers) -> str:
    """The GPU family of a stage job (``--amdgpu-family`` or the ``amdgpu_family`` input);
    refuses a list of several."""
    text = str(lay.resolve("", flag="amdgpu_family", input="amdgpu_family").value)
    names = parse_list(text)
    if len(names) > 1:
        raise InputError(f"a stage job builds one GPU family; got {', '.join(names)}")
    return names[0] if names else ""


def stage_job(topology: Topology, stage: str, conditions: Conditions, lay: Layers) -> StageJob:
    """The StageJob of a command's ``--stage`` and family."""
    return StageJob(topology, stage, conditions, one_family(lay))


def positive_int(text: str) -> int:
    """An argparse ``type=`` for counts: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_jobs_arg(parser: argparse.ArgumentParser, default: int | None = None) -> None:
    """``--jobs N``: work in parallel (default: the settings', CPU count 1 to 8)."""
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=default,
        help="archives moved in parallel (default: CPU count, 1 to 8)",
    )


@dataclass(frozen=True)
class Context:
    """Where artifacts go: the run of a store, the platform, the conditions, the settings."""

    target: RunRef
    platform: str
    conditions: Conditions
    settings: StoreSettings
    layers: Layers

    @property
    def store(self) -> Store:
        """The store."""
        return self.target.store

    @property
    def run(self) -> str:
        """The run folder."""
        return self.target.run


_KEEP = object()


def store_context(args: argparse.Namespace, *, run_id: object = _KEEP) -> Context:
    """The store, run folder and conditions of a command; ``run_id`` replaces ``--run-id``
    (None: as if it were not given)."""
    lay = layers(args)
    if run_id is not _KEEP:
        lay = Layers({**lay.flags, "run_id": run_id}, lay.inputs, lay.environ, lay.file)
    settings = store_and_run(args, lay)
    return Context(
        open_run(settings),
        settings.platform.value,
        job_conditions(args, settings),
        settings,
        lay,
    )


def max_waves(args: argparse.Namespace, config: PipelineConfig) -> int:
    """How many wave jobs: ``--max-waves``, else ``[workflow] max-waves`` of the settings file,
    else 6. InputError naming where the value came from when it is out of range."""
    lay = dataclasses.replace(layers(args), file=config.file_layer())
    got = lay.resolve(DEFAULT_MAX_WAVES, flag="max_waves", file="max-waves")
    if not 1 <= got.value <= MAX_WAVES:
        raise InputError(f"max-waves {got.describe()} must be from 1 to {MAX_WAVES}")
    return got.value
