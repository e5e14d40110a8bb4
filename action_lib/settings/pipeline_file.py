"""The settings file layer: ``rockshard-pipeline.toml`` (runner labels, timeouts, waves)."""

from __future__ import annotations

from pathlib import Path

from action_lib.errors import InputError
from action_lib.pipeline.config import PipelineConfig, parse_pipeline_config

CONFIG_NAME = "rockshard-pipeline.toml"


def load_pipeline_config(
    path: Path | None, topology_path: Path, stages: tuple[str, ...]
) -> PipelineConfig:
    """The pipeline settings: ``path``, else rockshard-pipeline.toml beside the topology, else
    the defaults. InputError when ``path`` is given but absent or unreadable."""
    candidate = path if path is not None else topology_path.parent / CONFIG_NAME
    if not candidate.is_file():
        if path is not None:
            raise InputError(f"{path}: pipeline settings file not found")
        return PipelineConfig()
    try:
        text = candidate.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{candidate}: cannot read pipeline settings: {exc}") from None
    return parse_pipeline_config(text, str(candidate), stages)


def settings_path(path: Path | None, topology_path: Path) -> Path | None:
    """The settings file :func:`load_pipeline_config` reads (None: the defaults apply)."""
    candidate = path if path is not None else topology_path.parent / CONFIG_NAME
    return candidate if candidate.is_file() else None
