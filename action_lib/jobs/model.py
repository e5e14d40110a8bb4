"""The names job-level code passes around: one stage job, and one run of a store."""

from __future__ import annotations

from dataclasses import dataclass

from action_lib.families import family_targets
from action_lib.stores.base import Store
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology


@dataclass(frozen=True)
class StageJob:
    """One job of a pipeline: ``stage`` under ``conditions``, for ``family`` when per-arch.

    A generic stage has no family (a family given for it is ignored, as a matrix entry of a
    generic stage carries an empty one). A per-arch stage is built for one family; the plans
    refuse a per-arch job without one when it moves target-specific artifacts.
    """

    topology: Topology
    stage: str
    conditions: Conditions
    family: str = ""

    def __post_init__(self) -> None:
        queries.require_stage(self.topology, self.stage)
        if self.family:
            family_targets(self.family)  # InputError with the nearest names when unknown
        if not self.per_arch:
            object.__setattr__(self, "family", "")

    @property
    def per_arch(self) -> bool:
        """True when the stage is built once per GPU family."""
        return self.topology.build_stages[self.stage].per_arch

    @property
    def families(self) -> tuple[str, ...]:
        """``(family,)`` for a per-arch job, ``()`` for a generic one (the plans' argument)."""
        return (self.family,) if self.family else ()

    @property
    def label(self) -> str:
        """``stage`` or ``stage[family]``, for messages."""
        return f"{self.stage}[{self.family}]" if self.family else self.stage


@dataclass(frozen=True)
class RunRef:
    """One run's folder in a store."""

    store: Store
    run: str

    def location(self) -> str:
        """The folder's URL or path, for messages."""
        return self.store.location(self.run)
