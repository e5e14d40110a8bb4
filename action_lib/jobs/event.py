"""The stages a workflow run's event affects: changed files from the event, then impact.

On GitHub, a ``pull_request`` lists the pull request's files and a ``push`` compares its two
commits through the API (stage jobs check out shallow, so git history is not there). Under
act, or without a token, the changes come from ``git diff`` of the event's two commits.
Whatever cannot be known makes every stage affected, and the report says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from action_lib.cache.inputs_config import rules_from_file
from action_lib.errors import InputError, OperationError
from action_lib.github_api.client import DEFAULT_API_URL, ChangedFiles, GitHubClient
from action_lib.impact.analyze import Change, ImpactReport, compute_impact, everything
from action_lib.impact.rules import ImpactRules
from action_lib.inputs.paths import commit_problems
from action_lib.pipeline.trust import EventTrust, event_trust
from action_lib.settings import environment
from action_lib.sources.checkout import read_gitmodules
from action_lib.sources.git import GitRunner, diff, ls_tree
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.sources.layout import descriptor_locations, folder_groups
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class EventContext:
    """What a workflow run says about its event (from the ``GITHUB_*`` variables)."""

    name: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    repository: str = ""
    token: str = ""
    api_url: str = DEFAULT_API_URL
    local: bool = False  # under act or without a token: use git, not the API
    ref: str = ""
    actor: str = ""

    def trust(self) -> EventTrust:
        """How far this run is trusted (:mod:`action_lib.pipeline.trust`)."""
        return event_trust(self.name, self.payload, ref=self.ref, actor=self.actor)


def event_context(env: Mapping[str, str]) -> EventContext:
    """Read GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_TOKEN,
    GITHUB_API_URL, GITHUB_REF, GITHUB_ACTOR and ACT from ``env``. Raises InputError when the event is not given or
    its file cannot be read."""
    name = env.get("GITHUB_EVENT_NAME", "")
    if not name:
        raise InputError("GITHUB_EVENT_NAME is not set: give --base and --head instead")
    payload: Mapping[str, Any] = {}
    event_path = env.get("GITHUB_EVENT_PATH", "")
    if event_path:
        try:
            loaded = json.loads(Path(event_path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the event file {event_path}: {exc}") from None
        payload = loaded if isinstance(loaded, dict) else {}
    token = env.get("GITHUB_TOKEN", "")
    return EventContext(
        name=name,
        payload=payload,
        repository=env.get("GITHUB_REPOSITORY", ""),
        token=token,
        api_url=env.get("GITHUB_API_URL", "") or DEFAULT_API_URL,
        local=bool(env.get("ACT")) or not token,
        ref=env.get("GITHUB_REF", ""),
        actor=env.get("GITHUB_ACTOR", ""),
    )


def _table(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _commits(ctx: EventContext) -> tuple[str, str, int]:
    """(base, head, pull request number or 0) of the event; ("", "", 0) when it has none.
    A field of the wrong type counts as absent: the event file is data."""
    payload = ctx.payload
    if ctx.name in PULL_REQUEST_EVENTS:
        pull = _table(payload.get("pull_request"))
        number = pull.get("number") or payload.get("number") or 0
        return (
            _text(_table(pull.get("base")).get("sha")),
            _text(_table(pull.get("head")).get("sha")),
            number if type(number) is int and 0 < number < 2**31 else 0,
        )
    if ctx.name == "push":
        return _text(payload.get("before")), _text(payload.get("after")), 0
    if ctx.name == "merge_group":
        group = _table(payload.get("merge_group"))
        return _text(group.get("base_sha")), _text(group.get("head_sha")), 0
    return "", "", 0


def git_changes(runner: GitRunner, repo: Path, base: str, head: str) -> list[Change]:
    """The changes from ``base`` to ``head`` in the checkout at ``repo`` (``git diff``)."""
    return [
        Change(d.path, d.status, d.submodule, d.old, d.new) for d in diff(runner, repo, base, head)
    ]


def event_changes(
    ctx: EventContext,
    repo: Path,
    runner: GitRunner,
    client_factory: Callable[[EventContext], GitHubClient] | None = None,
) -> tuple[list[Change] | None, str, str]:
    """(changes or None, where they came from, why they could not be known)."""
    base, head, number = _commits(ctx)
    if ctx.name not in (*PULL_REQUEST_EVENTS, "push", "merge_group"):
        return None, f"a {ctx.name} event", f"a {ctx.name} event builds every stage"
    if ctx.name == "push" and (not base or base == ZERO_SHA):
        return None, "a push", "the push creates a branch: there is no earlier commit to compare"
    if any(sha and commit_problems(sha) for sha in (base, head)):
        # The event file is data: a "commit" that is not one never reaches git or a URL.
        return None, f"a {ctx.name} event", "the event's base or head is not a commit id"
    if ctx.local or not ctx.repository:
        if not base or not head:
            return None, f"a {ctx.name} event", "the event names no base and head commits"
        origin = f"git diff {base[:12]} {head[:12]}"
        try:
            return git_changes(runner, repo, base, head), origin, ""
        except OperationError as exc:
            return None, origin, f"git could not compare the commits ({exc})"
    factory = client_factory or (lambda c: GitHubClient(c.token, base_url=c.api_url))
    client = factory(ctx)
    try:
        listed: ChangedFiles = (
            client.pull_request_files(ctx.repository, number)
            if number
            else client.compare_files(ctx.repository, base, head)
        )
    except OperationError as exc:
        return None, ctx.repository, f"the changed files could not be listed ({exc})"
    finally:
        client.close()
    if not listed.complete:
        return None, listed.origin, listed.note
    return list(listed.changes), listed.origin, ""


def affected_stages_for_event(
    topology: Topology,
    *,
    env: Mapping[str, str] | None = None,
    repo: Path = Path(),
    conditions: Conditions = queries.ANYWHERE,
    rules: ImpactRules | None = None,
    submodules: tuple[GitSubmodule, ...] | None = None,
    runner: GitRunner | None = None,
    client_factory: Callable[[EventContext], GitHubClient] | None = None,
) -> ImpactReport:
    """The stages the current workflow event affects (``env`` defaults to the process environment).

    Never fails because the changes cannot be known: the report then has every stage
    affected and ``fallback`` says why. Raises InputError only when no event is given.
    """
    ctx = event_context(environment.environ() if env is None else env)
    runner = runner or GitRunner(retries=2, timeout=300)
    changes, origin, why = event_changes(ctx, repo, runner, client_factory)
    if changes is None:
        return everything(topology, why, conditions=conditions, origin=origin)
    if submodules is None:
        submodules = read_gitmodules(runner, repo) if (repo / ".git").exists() else ()
    return compute_impact(
        topology, changes, submodules=submodules, rules=rules, conditions=conditions, origin=origin
    )


def impact_rules(
    topology: Topology,
    *,
    rules_file: Path | None = None,
    affects_all: Sequence[str] = (),
    affects_none: Sequence[str] = (),
    descriptor_folders_at: str | None = None,
    repo: Path = Path(),
    runner: GitRunner | None = None,
) -> ImpactRules:
    """Impact rules: those of ``rules_file`` (an ``[impact]`` table), extended with more
    ``affects_all``/``affects_none`` patterns and, with ``descriptor_folders_at`` (a revision),
    the folders holding artifact descriptors in ``repo`` at that revision."""
    rules = ImpactRules()
    if rules_file is not None:
        try:
            text = rules_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 ({exc.reason})"
            raise InputError(f"cannot read {rules_file}: {reason}") from None
        rules = rules_from_file(text, str(rules_file), topology)
    folders: dict[str, tuple[str, ...]] = {}
    if descriptor_folders_at is not None:
        runner = runner or GitRunner(retries=2, timeout=600.0)
        files = [e.path for e in ls_tree(runner, repo, descriptor_folders_at, recursive=True)]
        locations, _unknown = descriptor_locations(topology, files)
        folders = folder_groups(topology, locations)
    return rules.extended(tuple(affects_all), tuple(affects_none), folders)


def submodules_between(
    runner: GitRunner, repo: Path, base: str, head: str
) -> tuple[GitSubmodule, ...]:
    """The submodules declared at ``base`` or ``head`` (``head`` wins a name or path)."""
    merged = {s.name: s for s in read_gitmodules(runner, repo, base)}
    for sub in read_gitmodules(runner, repo, head):
        merged = {k: v for k, v in merged.items() if v.path != sub.path}
        merged[sub.name] = sub
    return tuple(sorted(merged.values(), key=lambda s: s.name))


def range_impact(
    topology: Topology,
    repo: Path,
    base: str,
    head: str,
    *,
    rules: ImpactRules | None = None,
    conditions: Conditions = queries.ANYWHERE,
    runner: GitRunner | None = None,
) -> ImpactReport:
    """The stages the change from ``base`` to ``head`` in the checkout ``repo`` affects."""
    runner = runner or GitRunner(retries=2, timeout=600.0)
    return compute_impact(
        topology,
        git_changes(runner, repo, base, head),
        submodules=submodules_between(runner, repo, base, head),
        rules=rules,
        conditions=conditions,
        origin=f"git diff {base} {head}",
    )
