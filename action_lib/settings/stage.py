"""A stage job's own settings: its build directory and the super-build's CMake dialect."""

from __future__ import annotations

from pathlib import Path

from action_lib.cmakegen import DIALECTS
from action_lib.settings.layers import Layers, Setting, Source

ROCKSHARD_INCLUDE = Path("cmake") / "rockshard_topology.cmake"


def build_dir(layers: Layers, stage: str, family: str) -> Setting[Path]:
    """``--build-dir``, else ``$RUNNER_TEMP/rockshard-build/stage-S[-F]``, else
    ``build/stage-S[-F]``."""
    name = f"stage-{stage}" + (f"-{family}" if family else "")
    given = layers.resolve(None, flag="build_dir", input="build_dir", parse=Path)
    if given.value is not None:
        return Setting(given.value, given.source, given.origin)
    temp = layers.environ.get("RUNNER_TEMP", "")
    if temp:
        return Setting(Path(temp) / "rockshard-build" / name, Source.ENV, "RUNNER_TEMP")
    return Setting(Path("build") / name, Source.DEFAULT)


def dialect(layers: Layers, topology_path: Path) -> Setting[str]:
    """``--dialect``, else ``rockshard`` when the topology's folder has the rockshard dialect's
    include (``cmake/rockshard_topology.cmake``), else ``therock``."""
    given = layers.resolve("", flag="dialect", input="dialect")
    if given.value:
        return given
    if (topology_path.parent / ROCKSHARD_INCLUDE).is_file():
        return Setting("rockshard", Source.DEFAULT, f"{ROCKSHARD_INCLUDE.as_posix()} exists")
    return Setting(DIALECTS[0], Source.DEFAULT)
