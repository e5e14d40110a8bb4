"""GPU families: the packaged map against TheRock's reference, expansion, tiers, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from action_lib import families
from action_lib.errors import InputError


@pytest.mark.therock
def test_family_map_matches_therock_reference(therock_dir: Path) -> None:
    reference = json.loads((therock_dir / "amdgpu_targets.json").read_text())
    fmap = families.family_map()
    assert dict(fmap.families) == {k: tuple(v) for k, v in reference["families"].items()}
    assert {t: p for t, p in fmap.products.items()} == {
        t: v["product"] for t, v in reference["targets"].items()
    }
    for target, info in reference["targets"].items():
        for family in info["families"]:
            assert target in families.family_targets(family)
    assert {k: list(v) for k, v in fmap.tiers.items()} == reference["ci_tiers"]
    assert fmap.linux_only == frozenset(reference["linux_only_families"])


@pytest.mark.parametrize(
    ("family", "targets"),
    [
        ("gfx94X-dcgpu", ("gfx942",)),
        ("gfx110X-all", ("gfx1100", "gfx1101", "gfx1102", "gfx1103")),
        ("gfx1151", ("gfx1151",)),
        ("gfx942:xnack+", ("gfx942",)),
        (" gfx90a ", ("gfx90a",)),
    ],
    ids=["family", "all-family", "target-is-a-family", "target-with-features", "trimmed"],
)
def test_family_targets(family: str, targets: tuple[str, ...]) -> None:
    assert families.family_targets(family) == targets


def test_expand_families_deduplicates_in_order() -> None:
    assert families.expand_families(["gfx110X-dgpu", "gfx110X-all", "gfx942"]) == (
        "gfx1100",
        "gfx1101",
        "gfx1102",
        "gfx1103",
        "gfx942",
    )


def test_unknown_family_has_did_you_mean() -> None:
    with pytest.raises(InputError, match=r"unknown GPU family 'gfx94X-dcgpo'.*gfx94X-dcgpu"):
        families.family_targets("gfx94X-dcgpo")


def test_tiers_are_cumulative_and_windows_drops_linux_only() -> None:
    presubmit = families.tier_families("presubmit")
    postsubmit = families.tier_families("postsubmit")
    nightly = families.tier_families("nightly", "linux")
    assert set(presubmit) < set(postsubmit) < set(nightly)
    assert "gfx94X-dcgpu" in presubmit
    windows = families.tier_families("nightly", "windows")
    assert not set(windows) & families.family_map().linux_only
    assert set(windows) | families.family_map().linux_only >= set(nightly)


def test_unknown_tier() -> None:
    with pytest.raises(InputError, match="did you mean 'nightly'"):
        families.tier_families("nighlty")


def test_known_lists_are_sorted() -> None:
    assert list(families.known_families()) == sorted(families.known_families())
    assert "gfx94X-dcgpu" in families.known_families()
    assert list(families.known_targets()) == sorted(families.known_targets())


def test_target_in_ignores_features() -> None:
    assert families.target_in("gfx90a:xnack-", ["gfx90a"])
    assert not families.target_in("gfx90a", ["gfx942"])
