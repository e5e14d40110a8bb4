"""Stage keys over TheRock's real history: the share of stage jobs a cached pipeline builds.

Replays ../shared/therock/history/commits.jsonl (600 commits on main, oldest first) through
rockshard's own key code (action_lib.cache.keys) with TheRock's topology, its .gitmodules and
the TheRock preset of inputs (action_lib/data/therock-pipeline.toml). The history holds changed
paths, not trees, so the tree is synthetic: every path the history or TheRock's descriptors name,
each given a new object id whenever a commit changes it (a submodule its new commit). Every
commit runs the linux pipeline for the presubmit families; a job whose key has a record (any
earlier commit's) is reused, any other is built and recorded.

Printed side by side, measured in the same run: a full rebuild of every commit (the baseline),
impact with the same [inputs] (changed paths -> affected stages, no records), and stage keys.
TheRock's own stage reuse (93.1% of stage jobs built on this data) is quoted from issue 12,
not measured here. Checked on every commit: no job reused whose inputs changed (every job
impact marks affected got a new key, except those impact marks through a model file, whose
effect keys read precisely).

BUILD_TOPOLOGY.toml's content at each commit is not in the history: a commit changing it counts
every job as built (conservative). Early cutoff (byte-identical outputs) cannot be simulated
without outputs: the figures are without it.

Usage: python benchmarks/cache_history.py [--therock DIR] [--json] [--per-commit]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from action_lib.cache.keys import KeyContext, compute_keys
from action_lib.cache.tree import GITLINK, Entry, SourceTree
from action_lib.impact import Change, compute_impact
from action_lib.impact.analyze import RULE_ALL, affected_jobs
from action_lib.pipeline.config import PipelineConfig, parse_pipeline_config, runs_on_text
from action_lib.sources import parse_gitmodules
from action_lib.topology import Conditions, Topology, load_topology, queries

REPO = Path(__file__).resolve().parent.parent
THEROCK = REPO.parent / "shared" / "therock"
PRESET = REPO / "action_lib" / "data" / "therock-pipeline.toml"
THEROCK_OWN_SHARE = 0.931  # TheRock's own stage reuse on this data (issue 12), quoted
MODEL_FILES = ("BUILD_TOPOLOGY.toml", ".gitmodules", "rockshard-pipeline.toml")


def oid(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


def load(therock: Path) -> tuple[Topology, tuple[Any, ...], PipelineConfig, list[dict[str, Any]]]:
    topology = load_topology(therock / "BUILD_TOPOLOGY.toml")
    submodules = parse_gitmodules((therock / "gitmodules").read_text(encoding="utf-8"))
    config = parse_pipeline_config(
        PRESET.read_text(encoding="utf-8"), str(PRESET), tuple(topology.build_stages)
    )
    lines = (therock / "history" / "commits.jsonl").read_text(encoding="utf-8").splitlines()
    commits = [json.loads(line) for line in lines if line.strip()]
    commits.reverse()  # oldest first
    return topology, submodules, config, commits


def initial_tree(
    therock: Path,
    submodules: tuple[Any, ...],
    commits: list[dict[str, Any]],
    config: PipelineConfig,
) -> dict[str, Entry]:
    """Every path the history, the descriptors and .gitmodules name, before the first commit;
    and, in each declared folder, one file for those the history never changes."""
    files: dict[str, Entry] = {}
    declared = [*config.inputs.every_stage, *config.inputs.stage_paths()]
    for path in declared:
        if path.endswith("/") or "." not in path.rpartition("/")[2]:
            rel = path.rstrip("/") + "/unchanged-in-history"
            files[rel] = Entry("100644", oid("initial", rel))
    for path in ("BUILD_TOPOLOGY.toml", ".gitmodules"):
        files[path] = Entry("100644", oid("initial", path))
    for descriptor in therock.rglob("artifact*.toml"):
        rel = descriptor.relative_to(therock).as_posix()
        files[rel] = Entry("100644", oid("initial", rel))
    for sub in submodules:
        files[sub.path] = Entry(GITLINK, oid("initial", sub.path))
    for commit in commits:
        for change in commit["changes"]:
            path = change["path"]
            if path in files:
                continue
            if change.get("submodule"):
                files[path] = Entry(GITLINK, change.get("old") or oid("initial", path))
            else:
                files[path] = Entry("100644", oid("initial", path))
    return files


def apply(files: dict[str, Entry], commit: dict[str, Any]) -> None:
    for change in commit["changes"]:
        path = change["path"]
        if change["status"] == "D":
            files.pop(path, None)
        elif change.get("submodule"):
            files[path] = Entry(GITLINK, change.get("new") or oid(commit["commit"], path))
        else:
            files[path] = Entry("100644", oid(commit["commit"], path))


def presubmit(therock: Path) -> list[str]:
    data = json.loads((therock / "amdgpu_targets.json").read_text(encoding="utf-8"))
    return list(data["ci_tiers"]["presubmit"])


def simulate(therock: Path) -> dict[str, Any]:
    topology, submodules, config, commits = load(therock)
    conditions = Conditions(platform="linux", processor="x86_64")
    families = presubmit(therock)
    jobs = queries.expand_jobs(topology, families, conditions)
    full = len(jobs)
    files = initial_tree(therock, submodules, commits, config)
    rules = config.inputs.impact_rules(topology, "BUILD_TOPOLOGY.toml")
    runs_on = {s: runs_on_text(config.settings(s, "linux").runs_on) for s in topology.build_stages}

    def keys_now(commit: str) -> dict[tuple[str, str], str]:
        ctx = KeyContext(
            topology,
            conditions,
            config.inputs,
            SourceTree(commit, files),
            submodules,
            runs_on=runs_on,
        )
        return {(j.stage, j.family): k.key for j, k in compute_keys(ctx, families).items()}

    recorded: set[tuple[tuple[str, str], str]] = set()
    previous = keys_now("base")
    recorded.update(previous.items())
    rows: list[dict[str, Any]] = []
    seconds = 0.0
    for commit in commits:
        apply(files, commit)
        started = time.perf_counter()
        keys = keys_now(commit["commit"])
        seconds += time.perf_counter() - started
        topology_changed = any(c["path"] == "BUILD_TOPOLOGY.toml" for c in commit["changes"])
        built = [job for job, key in keys.items() if (job, key) not in recorded]
        if topology_changed:
            built = list(keys)
        recorded.update(keys.items())
        changes = [
            Change(
                c["path"], c["status"], bool(c.get("submodule")), c.get("old", ""), c.get("new", "")
            )
            for c in commit["changes"]
        ]
        report = compute_impact(
            topology, changes, submodules=submodules, rules=rules, conditions=conditions
        )
        impacted = {
            (j.stage, j.family) for j in affected_jobs(topology, report, families, conditions)
        }
        through_model = any(p.rule == RULE_ALL and p.detail in MODEL_FILES for p in report.paths)
        moved = {job for job in keys if keys[job] != previous.get(job)}
        missed = set() if through_model else impacted - moved - set(built)
        rows.append(
            {
                "commit": commit["commit"][:12],
                "subject": commit["subject"],
                "built": len(built),
                "impact": len(impacted),
                "topology": topology_changed,
                "missed": sorted(f"{s}[{f}]" if f else s for s, f in missed),
                "reverted": len([j for j in moved if (j, keys[j]) in recorded and j not in built]),
            }
        )
        previous = keys
    n = len(rows)
    built_total = sum(r["built"] for r in rows)
    impact_total = sum(r["impact"] for r in rows)
    topo_rows = [r for r in rows if r["topology"]]
    buckets = Counter(
        "0%"
        if r["built"] == 0
        else "100%"
        if r["built"] == full
        else "1-25%"
        if r["built"] <= full / 4
        else "26-50%"
        if r["built"] <= full / 2
        else "51-99%"
        for r in rows
    )
    return {
        "commits": n,
        "families": families,
        "stage_jobs_per_full_rebuild": full,
        "full_rebuild": {"jobs": full * n, "share": 1.0},
        "therock_own_stage_reuse": {"share": THEROCK_OWN_SHARE, "measured": False},
        "impact_same_inputs": {"jobs": impact_total, "share": impact_total / (full * n)},
        "stage_keys": {"jobs": built_total, "share": built_total / (full * n)},
        "stage_keys_without_topology_commits": {
            "jobs": built_total - sum(r["built"] for r in topo_rows),
            "share": (built_total - sum(r["built"] for r in topo_rows))
            / (full * (n - len(topo_rows))),
            "commits": n - len(topo_rows),
        },
        "topology_commits_counted_as_full_rebuilds": len(topo_rows),
        "missed_jobs": sum(len(r["missed"]) for r in rows),
        "keys_found_again_after_a_change": sum(r["reverted"] for r in rows),
        "commits_by_share": {k: buckets[k] for k in ("0%", "1-25%", "26-50%", "51-99%", "100%")},
        "ms_per_commit_keys": 1000 * seconds / max(1, n),
        "per_commit": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--therock", type=Path, default=THEROCK)
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--per-commit", action="store_true", help="print every commit's count")
    args = parser.parse_args(argv)
    if not (args.therock / "history" / "commits.jsonl").is_file():
        sys.stderr.write(f"cache_history: {args.therock} has no history/commits.jsonl\n")
        return 2
    figures = simulate(args.therock)
    if args.json:
        json.dump(figures, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    n, full = figures["commits"], figures["stage_jobs_per_full_rebuild"]
    print(
        f"stage keys over {n} TheRock commits, linux, presubmit families "
        f"{', '.join(figures['families'])}: {full} stage jobs per full rebuild"
    )
    print()
    print(f"{'':58}{'stage jobs':>12}{'built':>9}")
    rows = (
        ("full rebuild of every commit (baseline)", figures["full_rebuild"]),
        ("TheRock's own stage reuse (issue 12, quoted)", None),
        ("impact, same [inputs] (no records)", figures["impact_same_inputs"]),
        ("stage keys, TheRock preset", figures["stage_keys"]),
    )
    for label, fig in rows:
        if fig is None:
            print(f"{label:58}{'-':>12}{100 * THEROCK_OWN_SHARE:>8.1f}%")
        else:
            print(f"{label:58}{fig['jobs']:>12}{100 * fig['share']:>8.1f}%")
    other = figures["stage_keys_without_topology_commits"]
    print(
        f"{'stage keys, the ' + str(other['commits']) + ' commits not touching the topology':58}"
        f"{other['jobs']:>12}{100 * other['share']:>8.1f}%"
    )
    print()
    print(
        "commits by share of stage jobs built: "
        + ", ".join(f"{k}: {v}" for k, v in figures["commits_by_share"].items())
    )
    print(
        f"commits changing BUILD_TOPOLOGY.toml (counted as full rebuilds): "
        f"{figures['topology_commits_counted_as_full_rebuilds']}"
    )
    print(f"jobs reused although impact marks them affected (must be 0): {figures['missed_jobs']}")
    print(
        f"keys found again after a change (a revert reuses): "
        f"{figures['keys_found_again_after_a_change']}"
    )
    print(f"{figures['ms_per_commit_keys']:.1f} ms per commit to compute its {full} keys")
    if args.per_commit:
        print()
        for row in figures["per_commit"]:
            print(
                f"  {row['commit']} {row['built']:>3}/{full} (impact {row['impact']:>3})  "
                f"{row['subject'][:70]}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
