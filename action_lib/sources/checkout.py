"""Check out what a :class:`SourcePlan` needs: sparse cone, submodules, external sources."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.errors import InputError, OperationError
from action_lib.sources.git import GitError, GitRunner, tree_children
from action_lib.sources.gitmodules import GitSubmodule, parse_gitmodules
from action_lib.sources.layout import Owned, owned_paths
from action_lib.sources.plan import (
    ExternalCheckout,
    SourcePlan,
    SubmoduleCheckout,
    cone_parents,
    plan_sources,
    sparse_cone,
)
from action_lib.topology.model import Topology

_SUBMODULE_PATH = re.compile(r"submodule path '([^']+)'|Failed to clone '([^']+)'")
_MISSING_COMMIT = ("did not contain", "not our ref", "reference is not a tree", "unadvertised")


@dataclass(frozen=True)
class CheckoutResult:
    """What a fetch did (or would do): one line per action, and the sparse cone."""

    actions: tuple[str, ...]
    sparse_paths: tuple[str, ...]


@dataclass(frozen=True)
class CheckoutOptions:
    """How to fetch: shallow depth, parallel jobs, reference mirrors, sparse, dry run."""

    depth: int | None = None
    jobs: int | None = None
    reference_dir: Path | None = None
    sparse: bool = True
    dry_run: bool = False


def read_gitmodules(
    runner: GitRunner, repo: Path, rev: str | None = None
) -> tuple[GitSubmodule, ...]:
    """The superproject's ``.gitmodules``: at ``rev`` when given, else the file in the
    checkout, else ``HEAD:.gitmodules``; () when there is none."""
    path = repo / ".gitmodules"
    if rev is None and path.is_file():
        # The change's own file: undecodable bytes become U+FFFD (and then findings), no crash.
        return parse_gitmodules(path.read_bytes().decode("utf-8", "replace"), str(path))
    spec = f"{rev or 'HEAD'}:.gitmodules"
    result = runner.run(
        ["show", "--end-of-options", spec], cwd=repo, what=str(repo), check=False, retry=False
    )
    if result.returncode != 0:
        return ()
    return parse_gitmodules(result.stdout, spec)


def stage_sparse_paths(
    runner: GitRunner, repo: Path, plan: SourcePlan, owned: Sequence[Owned], rev: str = "HEAD"
) -> tuple[str, ...]:
    """The cone-mode sparse-checkout folders of ``plan`` in the tree of ``rev``."""
    return sparse_cone(plan, owned, tree_children(runner, repo, rev, cone_parents(owned)))


def _mirror(reference_dir: Path, name: str) -> Path | None:
    for candidate in (reference_dir / f"{name}.git", reference_dir / name):
        if (candidate / "objects").is_dir() or (candidate / ".git").exists():
            return candidate
    return None


def _is_repository(path: Path) -> bool:
    return ((path / "objects").is_dir() and (path / "HEAD").is_file()) or (path / ".git").exists()


def _submodule_error(batch: Sequence[SubmoduleCheckout], exc: OperationError) -> OperationError:
    text = str(exc)
    paths = {s.path: s for s in batch}
    named = [
        paths[p]
        for m in _SUBMODULE_PATH.finditer(text)
        for p in (m.group(1) or m.group(2) or "",)
        if p in paths
    ]
    who = named[:1] or list(batch)
    subject = ", ".join(f"submodule '{s.name}' ({s.path}, {s.url})" for s in who)
    detail = text.split(": ", 1)[1] if ": " in text else text
    if any(marker in text for marker in _MISSING_COMMIT):
        return OperationError(
            f"{subject}: the commit the superproject records does not exist in the "
            f"submodule's repository (not retried): {detail}"
        )
    return OperationError(f"{subject}: {detail}")


def _update_submodules(
    runner: GitRunner,
    repo: Path,
    batch: Sequence[SubmoduleCheckout],
    options: CheckoutOptions,
    reference: Path | None,
) -> str:
    args = ["submodule", "update", "--init"]
    if options.depth:
        args += ["--depth", str(options.depth)]
    if options.jobs:
        args += ["--jobs", str(options.jobs)]
    if reference is not None:
        args += ["--reference", str(reference)]
    args += ["--", *(s.path for s in batch)]
    line = "git " + " ".join(args)
    if not options.dry_run:
        try:
            runner.run(args, cwd=repo, what=", ".join(s.name for s in batch))
        except OperationError as exc:
            raise _submodule_error(batch, exc) from None
    return line


def fetch_submodules(
    runner: GitRunner, repo: Path, plan: SourcePlan, options: CheckoutOptions
) -> list[str]:
    """Initialise the plan's submodules; returns the git commands run (or to run)."""
    if not plan.submodules:
        return []
    reference_dir = options.reference_dir
    if reference_dir is not None and not reference_dir.is_dir():
        raise InputError(f"reference directory {reference_dir} does not exist")
    done: list[str] = []
    batch: list[SubmoduleCheckout] = []
    shared: Path | None = None
    if reference_dir is not None and _is_repository(reference_dir):
        shared = reference_dir
    for sub in plan.submodules:
        mirror = None if reference_dir is None or shared else _mirror(reference_dir, sub.name)
        if mirror is not None:
            done.append(_update_submodules(runner, repo, [sub], options, mirror))
        else:
            batch.append(sub)
    if batch:
        done.append(_update_submodules(runner, repo, batch, options, shared))
    return done


def _head(runner: GitRunner, dest: Path, what: str) -> str:
    result = runner.run(
        ["rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd=dest, what=what, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def fetch_external(
    runner: GitRunner, repo: Path, item: ExternalCheckout, options: CheckoutOptions
) -> str:
    """Clone an external git source at its pinned commit into its path; returns what it did.

    A pinned commit the repository does not have raises OperationError at once (not retried).
    """
    src = item.source
    dest = repo / src.path
    what = f"external source '{src.name}' ({src.origin})"
    if (dest / ".git").exists() and _head(runner, dest, what).startswith(src.commit):
        return f"{src.name}: already at {src.commit[:12]} in {src.path}"
    if options.dry_run:
        return f"{src.name}: clone {src.origin} at {src.commit} into {src.path}"
    if not (dest / ".git").exists():
        dest.mkdir(parents=True, exist_ok=True)
        runner.run(["init", "-q"], cwd=dest, what=what)
        runner.run(["remote", "add", "--", "origin", src.origin], cwd=dest, what=what)
        mirror = None if options.reference_dir is None else _mirror(options.reference_dir, src.name)
        if mirror is not None:
            alternates = dest / ".git" / "objects" / "info" / "alternates"
            alternates.parent.mkdir(parents=True, exist_ok=True)
            objects = (
                mirror / "objects" if (mirror / "objects").is_dir() else mirror / ".git" / "objects"
            )
            alternates.write_text(str(objects.resolve()) + "\n", encoding="utf-8", newline="\n")
    depth = ["--depth", str(options.depth)] if options.depth else []
    try:
        runner.run(
            ["fetch", "-q", *depth, "--end-of-options", "origin", src.commit], cwd=dest, what=what
        )
    except GitError as first:
        if first.kind != "failed":  # killed after the timeout, or the network stayed down
            raise
        # A server may refuse a commit by id (or the id is abbreviated): fetch every
        # branch and look for it before calling it missing.
        runner.run(
            [
                "fetch",
                "-q",
                "--tags",
                "--end-of-options",
                "origin",
                "+refs/heads/*:refs/remotes/origin/*",
            ],
            cwd=dest,
            what=what,
        )
        found = runner.run(
            ["rev-parse", "--verify", "-q", "--end-of-options", f"{src.commit}^{{commit}}"],
            cwd=dest,
            what=what,
            check=False,
            retry=False,
        )
        if found.returncode != 0:
            raise OperationError(
                f"{what}: pinned commit {src.commit} does not exist in {src.origin} "
                f"(not retried; {str(first).removeprefix(what + ': ')})"
            ) from None
    runner.run(
        ["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", src.commit, "--"],
        cwd=dest,
        what=what,
    )
    return f"{src.name}: cloned {src.origin} at {src.commit[:12]} into {src.path}"


def fetch_sources(
    runner: GitRunner,
    repo: Path,
    plan: SourcePlan,
    owned: Sequence[Owned],
    options: CheckoutOptions,
) -> CheckoutResult:
    """Check out ``plan`` in the superproject at ``repo``: the sparse cone (when the topology
    owns path prefixes), then the submodules, then the external sources."""
    if not (repo / ".git").exists():
        raise InputError(f"{repo} is not the top of a git checkout")
    lines: list[str] = []
    cone: tuple[str, ...] = ()
    if plan.sparse and options.sparse:
        cone = stage_sparse_paths(runner, repo, plan, owned)
        if not options.dry_run:
            runner.run(
                ["sparse-checkout", "set", "--cone", "--stdin"],
                cwd=repo,
                what=f"sparse checkout of {repo}",
                input_text="".join(p + "\n" for p in cone),
            )
        lines.append("git sparse-checkout set --cone " + " ".join(cone))
    lines += fetch_submodules(runner, repo, plan, options)
    lines += [fetch_external(runner, repo, item, options) for item in plan.external]
    return CheckoutResult(tuple(lines), cone)


def fetch_stage_sources(
    runner: GitRunner,
    repo: Path,
    topology: Topology,
    stage: str | None,
    options: CheckoutOptions,
    *,
    platform: str | None = None,
    extra_source_sets: Sequence[str] = (),
) -> tuple[SourcePlan, CheckoutResult]:
    """Plan and fetch the sources of ``stage`` (plus ``extra_source_sets``) in ``repo``."""
    if not (repo / ".git").exists():
        raise InputError(f"{repo} is not the top of a git checkout")
    submodules = read_gitmodules(runner, repo)
    plan = plan_sources(
        topology,
        stage,
        platform=platform,
        extra_source_sets=extra_source_sets,
        submodules=submodules,
    )
    return plan, fetch_sources(runner, repo, plan, owned_paths(topology, submodules), options)


def sparse_checkout_paths(
    topology: Topology,
    stages: Sequence[str],
    *,
    repo: Path = Path(),
    platform: str | None = None,
    runner: GitRunner | None = None,
) -> dict[str, tuple[str, ...]]:
    """For each of ``stages``, the folders it checks out in cone mode (``actions/checkout``'s
    ``sparse-checkout`` input), from the tree of ``repo``'s HEAD; () when the topology owns no
    path prefixes (check out everything, then the stage's submodules). ``.gitmodules`` and the
    tree are read once for all stages."""
    runner = runner or GitRunner(retries=1, timeout=120)
    submodules = read_gitmodules(runner, repo)
    owned = owned_paths(topology, submodules)
    tree: dict[str, list[str]] | None = None
    out: dict[str, tuple[str, ...]] = {}
    for stage in stages:
        plan = plan_sources(topology, stage, platform=platform, submodules=submodules)
        if not plan.sparse:
            out[stage] = ()
            continue
        if tree is None:
            tree = tree_children(runner, repo, "HEAD", cone_parents(owned))
        out[stage] = sparse_cone(plan, owned, tree)
    return out
