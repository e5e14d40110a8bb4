"""The stage cache's setting: whether a command reads cache records, and who writes them.

| setting | flag | action input | environment | default |
| --- | --- | --- | --- | --- |
| cache mode | ``--cache`` | ``cache`` | ``ROCKSHARD_CACHE`` | ``off`` at a terminal; the actions pass ``auto`` |

- ``off``: no lookup, no record;
- ``read``: reuse what records name, never write one;
- ``auto``: read; write records when the workflow event *publishes* (a push to the default
  branch, a schedule, a manual dispatch: :func:`action_lib.pipeline.trust.event_trust`);
- ``write``: read; write records from any trusted event, and at a terminal (no event).

No mode lets a pull request (or a run a bot started) write a record.
"""

from __future__ import annotations

from typing import Literal, get_args

from action_lib.errors import InputError
from action_lib.settings.layers import Layers, Setting

CacheMode = Literal["off", "read", "auto", "write"]
CACHE_MODES: tuple[CacheMode, ...] = get_args(CacheMode)


def parse_mode(text: str) -> CacheMode:
    """A cache mode from text; InputError naming the modes otherwise."""
    for mode in CACHE_MODES:
        if text == mode:
            return mode
    raise InputError(f"unknown cache mode '{text}' ({', '.join(CACHE_MODES)})")


def cache_mode(layers: Layers, default: CacheMode = "off") -> Setting[CacheMode]:
    """``--cache``, the ``cache`` input, ``ROCKSHARD_CACHE``, else ``default``."""
    return layers.resolve(
        default, flag="cache", input="cache", env=("ROCKSHARD_CACHE",), parse=parse_mode
    )
