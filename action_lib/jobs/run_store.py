"""The store of the current workflow run: its trust (from the event) and the configured stores."""

from __future__ import annotations

from collections.abc import Mapping

from action_lib.jobs.event import event_context
from action_lib.pipeline.run_store import RunStore, choose_run_store
from action_lib.pipeline.trust import EventTrust
from action_lib.settings.run_store import SetupSettings

OUTSIDE_ACTIONS = EventTrust("", True, False, False, "a run outside GitHub Actions")


def run_trust(env: Mapping[str, str]) -> EventTrust:
    """The trust of the current run (:meth:`EventContext.trust`); a command run outside a
    workflow (no ``GITHUB_EVENT_NAME``) is trusted to write its own local store, never to
    publish."""
    if not env.get("GITHUB_EVENT_NAME"):
        return OUTSIDE_ACTIONS
    return event_context(env).trust()


def resolve_run_store(settings: SetupSettings, env: Mapping[str, str]) -> RunStore:
    """Where the current run's artifacts go; InputError on GitHub when no shared store is set."""
    return choose_run_store(
        run_trust(env),
        settings.choice(),
        repository=env.get("GITHUB_REPOSITORY", ""),
        shared_required=settings.on_github,
    )
