"""Impact over TheRock's real history: the share of stage jobs each commit would rebuild.

Reads ../shared/therock/history/commits.jsonl (600 commits with their changed paths and
submodule moves), TheRock's BUILD_TOPOLOGY.toml, its .gitmodules and the folders of its
artifact descriptors (a path under a folder holding ``artifact*.toml`` maps to that
artifact's group). For the linux pipeline with the presubmit GPU families it prints, per
commit and in total, the stage jobs impact marks as affected next to a full rebuild of every
commit (the baseline), and the commits that fell back to "everything".

Usage: python benchmarks/impact_history.py [--therock DIR] [--list-fallbacks N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from action_lib.impact import Change, ImpactReport, ImpactRules, compute_impact, parse_rules
from action_lib.impact.analyze import RULE_ALL, RULE_UNMAPPED, affected_jobs
from action_lib.sources import parse_gitmodules
from action_lib.sources.layout import descriptor_locations, folder_groups
from action_lib.topology import Conditions, Topology, load_topology, queries

REPO = Path(__file__).resolve().parent.parent
THEROCK = REPO.parent / "shared" / "therock"

# TheRock's rules (shared with `rockshard simulate --rules` and the README's figures).
RULES_FILE = REPO / "benchmarks" / "therock_impact_rules.toml"
# A variant: changes to CI workflows and their scripts rebuild nothing (they change how the
# pipeline runs, not what a stage builds).
CI_AS_NONE = (".github/", "build_tools/github_actions/")


def load(therock: Path) -> tuple[Topology, list[dict[str, Any]], ImpactRules, tuple[Any, ...]]:
    topology = load_topology(therock / "BUILD_TOPOLOGY.toml")
    submodules = parse_gitmodules((therock / "gitmodules").read_text(encoding="utf-8"))
    descriptors = [p.relative_to(therock).as_posix() for p in therock.rglob("artifact*.toml")]
    locations, _unknown = descriptor_locations(topology, descriptors)
    text = RULES_FILE.read_text(encoding="utf-8")
    rules = parse_rules(text, RULES_FILE.relative_to(REPO).as_posix(), topology).extended(
        folders=folder_groups(topology, locations)
    )
    lines = (therock / "history" / "commits.jsonl").read_text(encoding="utf-8").splitlines()
    commits = [json.loads(line) for line in lines if line.strip()]
    return topology, commits, rules, submodules


def changes_of(commit: dict[str, Any]) -> list[Change]:
    return [
        Change(c["path"], c["status"], bool(c.get("submodule")), c.get("old", ""), c.get("new", ""))
        for c in commit["changes"]
    ]


def families(therock: Path, platform: str) -> list[str]:
    data = json.loads((therock / "amdgpu_targets.json").read_text(encoding="utf-8"))
    linux_only = set(data.get("linux_only_families", []))
    return [f for f in data["ci_tiers"]["presubmit"] if platform == "linux" or f not in linux_only]


def run(
    topology: Topology,
    commits: list[dict[str, Any]],
    rules: ImpactRules,
    submodules: tuple[Any, ...],
    fams: list[str],
    conditions: Conditions,
) -> list[tuple[dict[str, Any], ImpactReport, int]]:
    out = []
    for commit in commits:
        report = compute_impact(
            topology, changes_of(commit), submodules=submodules, rules=rules, conditions=conditions
        )
        out.append((commit, report, len(affected_jobs(topology, report, fams, conditions))))
    return out


def summarize(results: list[tuple[dict[str, Any], ImpactReport, int]], full: int) -> dict[str, Any]:
    n = len(results)
    jobs = sum(j for _c, _r, j in results)
    kinds: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    for _commit, report, count in results:
        if count == 0:
            kinds["no stage"] += 1
        elif report.fallback:
            kinds["every stage: fallback (unmapped path)"] += 1
        elif any(p.rule == RULE_ALL for p in report.paths):
            kinds["every stage: affects-all rule"] += 1
        elif report.everything:
            kinds["every stage: mapped to the first stage"] += 1
        else:
            kinds["some stages"] += 1
        share = count / full
        bucket = (
            "0%"
            if share == 0
            else "100%"
            if share == 1
            else (
                "1-25%"
                if share <= 0.25
                else "26-50%"
                if share <= 0.5
                else "51-75%"
                if share <= 0.75
                else "76-99%"
            )
        )
        buckets[bucket] += 1
    return {
        "commits": n,
        "jobs": jobs,
        "baseline_jobs": full * n,
        "share": jobs / (full * n) if n else 0.0,
        "kinds": dict(kinds),
        "buckets": {k: buckets[k] for k in ("0%", "1-25%", "26-50%", "51-75%", "76-99%", "100%")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therock", type=Path, default=THEROCK)
    parser.add_argument("--list-fallbacks", type=int, default=100, metavar="N")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--per-commit", action="store_true", help="print every commit's share")
    args = parser.parse_args(argv)
    if not (args.therock / "history" / "commits.jsonl").is_file():
        sys.stderr.write(f"impact_history: {args.therock} has no history/commits.jsonl\n")
        return 2
    topology, commits, rules, submodules = load(args.therock)
    conditions = Conditions(platform="linux", processor="x86_64")
    fams = families(args.therock, "linux")
    full = len(queries.expand_jobs(topology, fams, conditions))

    started = time.perf_counter()
    results = run(topology, commits, rules, submodules, fams, conditions)
    elapsed = time.perf_counter() - started
    main_figures = summarize(results, full)
    ci_rules = rules.extended(affects_none=CI_AS_NONE)
    ci_rules = ImpactRules(
        tuple(p for p in ci_rules.affects_all if p != ".github/"),
        ci_rules.affects_none,
        ci_rules.folders,
    )
    ci_figures = summarize(run(topology, commits, ci_rules, submodules, fams, conditions), full)

    rule_counts = Counter(p.rule for _c, r, _j in results for p in r.paths)
    all_patterns = Counter(
        pattern
        for _c, r, _j in results
        for pattern in sorted({p.detail for p in r.paths if p.rule == RULE_ALL})
    )
    renamed = {s.path for s in submodules if s.path.rpartition("/")[2] != s.name}
    name_misses = [
        c
        for c, _r, _j in results
        if any(ch.path in renamed and ch.submodule for ch in changes_of(c))
    ]
    mixed = [
        c
        for c, r, _j in results
        if any(p.rule == RULE_UNMAPPED for p in r.paths)
        and any(p.rule != RULE_UNMAPPED for p in r.paths)
    ]
    fallbacks = [(c, r) for c, r, _j in results if r.fallback]
    figures = {
        "pipeline": {"platform": "linux", "families": fams, "stage_jobs_per_full_rebuild": full},
        "default_rules": main_figures,
        "ci_changes_affect_none": ci_figures,
        "paths_by_rule": dict(sorted(rule_counts.items())),
        "commits_by_affects_all_pattern": dict(all_patterns.most_common()),
        "therock_mapping_would_miss": {
            "submodule_moves_named_differently": len(name_misses),
            "unmapped_path_next_to_mapped": len(mixed),
        },
        "fallback_commits": [
            {
                "commit": c["commit"][:12],
                "subject": c["subject"],
                "unmapped": [p.path for p in r.paths if p.rule == RULE_UNMAPPED],
            }
            for c, r in fallbacks
        ],
        "ms_per_commit": 1000 * elapsed / max(1, len(commits)),
        "per_commit": [
            {
                "commit": c["commit"][:12],
                "jobs": j,
                "share": round(j / full, 4),
                "stages": list(r.affected),
            }
            for c, r, j in results
        ],
    }
    if args.json:
        json.dump(figures, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    first, last = commits[-1]["date"][:10], commits[0]["date"][:10]
    print(f"impact over {len(commits)} TheRock commits ({first} .. {last})")
    print(
        f"linux pipeline, presubmit families {', '.join(fams)}: {full} stage jobs per full rebuild"
    )
    print()
    print(f"{'':44}{'stage jobs':>12}{'vs full rebuild':>18}")
    base = main_figures["baseline_jobs"]
    print(f"{'full rebuild of every commit (baseline)':44}{base:>12}{'100.0%':>18}")
    for label, fig in (
        ("impact, default rules", main_figures),
        ("impact, CI-only changes affect none", ci_figures),
    ):
        print(f"{label:44}{fig['jobs']:>12}{100 * fig['share']:>17.1f}%")
    print()
    for label, fig in (
        ("default rules", main_figures),
        ("CI-only changes affect none", ci_figures),
    ):
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(fig["kinds"].items()))
        dist = ", ".join(f"{k}: {v}" for k, v in fig["buckets"].items())
        print(f"{label}: commits by outcome: {kinds}")
        print(f"{label}: commits by share of stage jobs: {dist}")
    print()
    print("changed paths by rule: " + ", ".join(f"{k} {v}" for k, v in sorted(rule_counts.items())))
    print(
        "commits meeting each affects-all pattern: "
        + ", ".join(f"{k} {v}" for k, v in all_patterns.most_common())
    )
    print(
        f"TheRock's own mapping would miss: {len(name_misses)} commits moving a submodule whose "
        f"path differs from its name, {len(mixed)} commits with an unmapped path next to a mapped one"
    )
    print(f"{1000 * elapsed / max(1, len(commits)):.2f} ms per commit")
    print()
    if args.per_commit:
        for commit, _report, count in results:
            print(
                f"  {commit['commit'][:10]} {count:>3}/{full} {100 * count / full:5.1f}%  "
                f"{commit['subject'][:70]}"
            )
        print()
    print(f"{len(fallbacks)} commits fell back to every stage (a path no rule covers):")
    for commit, report in fallbacks[: args.list_fallbacks]:
        unmapped = [p.path for p in report.paths if p.rule == RULE_UNMAPPED]
        print(
            f"  {commit['commit'][:10]} {commit['subject'][:60]}: {', '.join(unmapped[:4])}"
            + (f" (+{len(unmapped) - 4})" if len(unmapped) > 4 else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
