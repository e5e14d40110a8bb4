"""GPU families: TheRock's map from family names to gfx targets, and its CI tiers.

The data is the project's own (``action_lib/data/amdgpu_families.json``), written after TheRock's
conventions: every gfx target is a family of its own and also belongs to the families it lists.
A target with features (``gfx942:xnack+``) matches its base arch (``gfx942``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from action_lib.errors import InputError
from action_lib.inputs.lists import parse_list
from action_lib.inputs.suggest import unknown

TIERS = ("presubmit", "postsubmit", "nightly")


@dataclass(frozen=True, eq=False)
class FamilyMap:
    """Targets with their product names, families expanded to targets, and CI tiers."""

    products: Mapping[str, str]  # target -> product name, in declaration order
    families: Mapping[str, tuple[str, ...]]  # family -> targets, in declaration order
    tiers: Mapping[str, tuple[str, ...]]  # tier -> families of that tier alone
    linux_only: frozenset[str]


def _build(data: Mapping[str, Any]) -> FamilyMap:
    products: dict[str, str] = {}
    families: dict[str, list[str]] = {}
    for entry in data["targets"]:
        target = str(entry["target"])
        products[target] = str(entry["product"])
        for family in (target, *entry["families"]):
            families.setdefault(str(family), []).append(target)
    tiers = {tier: tuple(str(f) for f in data["ci_tiers"].get(tier, ())) for tier in TIERS}
    return FamilyMap(
        MappingProxyType(products),
        MappingProxyType({k: tuple(v) for k, v in families.items()}),
        MappingProxyType(tiers),
        frozenset(str(f) for f in data["linux_only_families"]),
    )


@lru_cache(maxsize=1)
def family_map() -> FamilyMap:
    """The packaged family map (TheRock's)."""
    text = resources.files("action_lib").joinpath("data/amdgpu_families.json").read_text("utf-8")
    return _build(json.loads(text))


def base_target(target: str) -> str:
    """``gfx942:xnack+`` -> ``gfx942``: a target's base arch, without features."""
    return target.split(":", 1)[0].strip()


def known_families() -> tuple[str, ...]:
    """Every family name (gfx targets included), sorted."""
    return tuple(sorted(family_map().families))


def known_targets() -> tuple[str, ...]:
    """Every gfx target, sorted."""
    return tuple(sorted(family_map().products))


def _unknown(family: str) -> InputError:
    return InputError(str(unknown("GPU family", family, known_families(), listing="families")))


def family_targets(family: str) -> tuple[str, ...]:
    """The gfx targets of ``family``; a gfx target (with or without features) is its own family.

    Raises InputError (with a did-you-mean) for an unknown family.
    """
    families = family_map().families
    name = family.strip()
    if name in families:
        return families[name]
    if base_target(name) in family_map().products:
        return (base_target(name),)
    raise _unknown(name)


def expand_families(families: Iterable[str]) -> tuple[str, ...]:
    """The gfx targets of several families, de-duplicated, in first-seen order."""
    out: dict[str, None] = {}
    for family in families:
        for target in family_targets(family):
            out.setdefault(target, None)
    return tuple(out)


def tier_families(tier: str, platform: str | None = None) -> tuple[str, ...]:
    """Families built in CI ``tier``; tiers are cumulative (nightly includes postsubmit, which
    includes presubmit), as TheRock's workflows combine them. Windows drops linux-only families.
    """
    if tier not in TIERS:
        raise InputError(str(unknown("CI tier", tier, TIERS, listing="tiers")))
    fmap = family_map()
    out: list[str] = []
    for name in TIERS[: TIERS.index(tier) + 1]:
        out.extend(f for f in fmap.tiers[name] if f not in out)
    if platform == "windows":
        out = [f for f in out if f not in fmap.linux_only]
    return tuple(out)


def target_in(target: str, targets: Iterable[str]) -> bool:
    """True when ``target`` (features ignored) is one of ``targets`` (features ignored)."""
    base = base_target(target)
    return any(base == base_target(t) for t in targets)


def resolve_families(text: str, platform: str) -> tuple[str, ...]:
    """A pipeline's families from ``text``: a CI tier name (its families on ``platform``), or a
    comma/semicolon list whose every family is known and built on ``platform``."""
    stripped = text.strip()
    if stripped in TIERS:
        return tier_families(stripped, platform)
    names = parse_list(text)
    for name in names:
        family_targets(name)  # raises InputError with a suggestion when unknown
        if platform == "windows" and name in family_map().linux_only:
            raise InputError(f"GPU family '{name}' is built on linux only, not on windows")
    return names
