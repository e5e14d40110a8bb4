"""The registry of CMake dialects: each one's variable prefix and generator module."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from action_lib.errors import InputError
from action_lib.inputs.suggest import unknown


@dataclass(frozen=True)
class Dialect:
    """A super-build's CMake conventions: ``THEROCK_ENABLE_X`` or ``ROCKSHARD_ENABLE_X``."""

    name: str
    prefix: str
    feature_command: str  # the CMake function a feature declaration calls
    module: str  # the module whose ``generate(topology, source)`` writes its include


THEROCK = Dialect("therock", "THEROCK", "therock_add_feature", "action_lib.cmakegen.therock")
ROCKSHARD = Dialect(
    "rockshard", "ROCKSHARD", "rockshard_add_feature", "action_lib.cmakegen.rockshard"
)
REGISTRY: Mapping[str, Dialect] = MappingProxyType({d.name: d for d in (THEROCK, ROCKSHARD)})
DIALECTS: tuple[str, ...] = tuple(REGISTRY)


def dialect(name: str) -> Dialect:
    """The dialect called ``name``; InputError with the nearest name when unknown."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise InputError(
            str(unknown("CMake dialect", name, DIALECTS, listing="dialects"))
        ) from None
