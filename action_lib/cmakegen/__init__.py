"""CMake generation from a topology: one pure ``generate`` and a registry of dialects.

- ``therock``: what TheRock's ``CMakeLists.txt`` includes (:mod:`action_lib.cmakegen.therock`);
- ``rockshard``: the ``ROCKSHARD_`` dialect for other super-builds
  (:mod:`action_lib.cmakegen.rockshard`, loaded only when asked for).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from action_lib.cmakegen.dialects import DIALECTS, dialect
from action_lib.errors import InputError
from action_lib.topology.model import Topology

Generator = Callable[[Topology, str], str]


def dialect_generator(name: str) -> Generator:
    """The ``generate(topology, source)`` function of the dialect ``name``.

    Raises InputError for an unknown dialect, or one whose module is not installed.
    """
    module_name = dialect(name).module
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name not in (module_name, None):
            raise  # a real bug inside the dialect, not a missing dialect
        raise InputError(
            f"the '{name}' CMake dialect is not available in this installation"
            f" ({module_name} is missing); use --dialect therock"
        ) from None
    generate_fn = getattr(module, "generate", None)
    if not callable(generate_fn):
        raise InputError(f"the '{name}' CMake dialect has no generate(topology, source)")
    fn: Generator = generate_fn
    return fn


def generate(topology: Topology, dialect: str = "therock", source: str | None = None) -> str:
    """The CMake include for ``topology`` in ``dialect``; byte-identical for identical input.

    ``source`` names the topology file in the "generated, do not edit" header (default: the
    path the topology was loaded from). Pure: no file is read or written.
    """
    return dialect_generator(dialect)(topology, topology.path if source is None else source)


__all__ = ["DIALECTS", "dialect_generator", "generate"]
