"""How rockshard's topology engine scales: load, validate, every stage's sets, build order.

Generates synthetic topologies (random DAGs, fixed seed, about 6 artifacts a group and 5 to 15
deps each, groups spread over 16 stages) of 100 to 20,000 artifacts plus a 10,000-deep dependency chain, then times, per size:

- load: reading and parsing the TOML into the typed model;
- validate: every semantic rule;
- queries: produced and inbound sets of every stage, and the build order, from cold;
- total: load, validate and all queries in one go, as a CLI run does (validation's analysis is reused);
- cmake: generating the therock dialect (when action_lib.cmakegen exists).

Baselines measured in the same run, on the same data:
- tomllib: parsing the TOML alone (a floor nothing can beat);
- naive: the per-stage rescan that TheRock's build_topology.py does (for each stage, scan every
  artifact for membership, then walk transitive deps), written here from its description.

Usage: python benchmarks/topology_scale.py [--sizes 100,1000,5000,10000,20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from action_lib.inputs.toml import tomllib
from action_lib.topology import queries as q
from action_lib.topology.loader import parse_topology
from action_lib.topology.model import Topology
from action_lib.topology.validate import validate_topology


def synthetic(n: int, seed: int = 42) -> str:
    """A random DAG topology of ``n`` artifacts as TOML text."""
    rng = random.Random(seed)
    n_groups = max(1, n // 6)
    n_stages = min(16, n_groups)
    out = ['[metadata]\nversion = "2.0"\ndescription = "synthetic"\n']
    out.append('[source_sets.src]\nsubmodules = ["src"]\n')
    groups_per_stage = -(-n_groups // n_stages)
    for s in range(n_stages):
        groups = [
            f"g{g}" for g in range(s * groups_per_stage, min(n_groups, (s + 1) * groups_per_stage))
        ]
        if groups:
            out.append(f"[build_stages.s{s}]\nartifact_groups = {groups!r}\n".replace("'", '"'))
    for g in range(n_groups):
        out.append(f'[artifact_groups.g{g}]\ntype = "generic"\nsource_sets = ["src"]\n')
    for i in range(n):
        group = min(n_groups - 1, i // 6)
        k = min(i, rng.randint(5, 15))
        deps = sorted(rng.sample(range(i), k)) if k else []
        dep_list = ", ".join(f'"a{d}"' for d in deps)
        out.append(
            f'[artifacts.a{i}]\nartifact_group = "g{group}"\ntype = "target-neutral"\nartifact_deps = [{dep_list}]\n'
        )
    return "".join(out)


def chain(depth: int) -> str:
    """A single dependency chain ``depth`` artifacts deep."""
    out = [
        '[metadata]\nversion = "2.0"\n[build_stages.all]\nartifact_groups = ["g"]\n[artifact_groups.g]\n'
    ]
    out.append('[artifacts.a0]\nartifact_group = "g"\n')
    out.extend(
        f'[artifacts.a{i}]\nartifact_group = "g"\nartifact_deps = ["a{i - 1}"]\n'
        for i in range(1, depth)
    )
    return "".join(out)


def naive_all_stages(data: dict[str, dict[str, dict[str, object]]]) -> None:
    """TheRock's algorithm: per stage and per group, rescan every artifact; walk transitive deps."""
    artifacts = data["artifacts"]
    for stage in data["build_stages"].values():
        produced: set[str] = set()
        for group in stage["artifact_groups"]:  # type: ignore[attr-defined]
            produced.update(name for name, a in artifacts.items() if a["artifact_group"] == group)
        inbound: set[str] = set()
        for name in produced:
            stack = list(artifacts[name].get("artifact_deps", []))  # type: ignore[call-overload]
            while stack:
                dep = stack.pop()
                if dep not in inbound:
                    inbound.add(dep)
                    stack.extend(artifacts[dep].get("artifact_deps", []))
        _ = inbound - produced


def clear_cache() -> None:
    q._analyze.cache_clear()


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def all_queries(topology: Topology) -> None:
    clear_cache()
    for stage in topology.build_stages:
        q.produced_artifacts(topology, stage)
        q.inbound_artifacts(topology, stage)
    q.build_order(topology)


def generate_cmake(topology: Topology) -> Callable[[], object] | None:
    try:
        from action_lib import cmakegen
    except ImportError:
        return None
    if not hasattr(cmakegen, "generate"):
        return None
    return lambda: cmakegen.generate(topology, dialect="therock", source="BUILD_TOPOLOGY.toml")


def measure(label: str, text: str, repeat: int, naive: bool) -> dict[str, float | str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "BUILD_TOPOLOGY.toml"
        path.write_text(text, encoding="utf-8")
        load = best_of(repeat, lambda: parse_topology(path.read_text(encoding="utf-8"), str(path)))
        floor = best_of(repeat, lambda: tomllib.loads(path.read_text(encoding="utf-8")))
        topology, findings = parse_topology(path.read_text(encoding="utf-8"), str(path))
        assert not findings, findings[:3]

        def fresh_validate() -> object:
            clear_cache()
            return validate_topology(topology)

        validate = best_of(repeat, fresh_validate)
        queries = best_of(repeat, lambda: all_queries(topology))
        cmake = generate_cmake(topology)

        def pipeline() -> None:
            clear_cache()
            topo, _ = parse_topology(path.read_text(encoding="utf-8"), str(path))
            validate_topology(topo)
            for stage in topo.build_stages:
                q.produced_artifacts(topo, stage)
                q.inbound_artifacts(topo, stage)
            q.build_order(topo)

        row: dict[str, float | str] = {
            "label": label,
            "stages": float(len(topology.build_stages)),
            "tomllib": floor,
            "load": load,
            "validate": validate,
            "queries": queries,
            "total": best_of(repeat, pipeline),
            "cmake": best_of(repeat, cmake) if cmake else float("nan"),
        }
        data = tomllib.loads(text)
        row["naive"] = best_of(1, lambda: naive_all_stages(data)) if naive else float("nan")
        return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,5000,10000,20000")
    parser.add_argument("--chain", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        rows.append(measure(f"{n} artifacts", synthetic(n), args.repeat, naive=True))
        print(f"measured {rows[-1]['label']}", file=sys.stderr)
    rows.append(measure(f"chain {args.chain}", chain(args.chain), args.repeat, naive=True))
    header = f"{'topology':<18}{'stages':>7}{'tomllib':>9}{'load':>8}{'validate':>9}{'queries':>9}{'total':>8}{'cmake':>8}{'naive q':>9}{'naive/q':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = float(r["naive"]) / float(r["queries"]) if r["queries"] else float("nan")
        print(
            f"{r['label']:<18}{int(float(r['stages'])):>7}{float(r['tomllib']):>9.3f}{float(r['load']):>8.3f}"
            f"{float(r['validate']):>9.3f}{float(r['queries']):>9.3f}{float(r['total']):>8.3f}"
            f"{float(r['cmake']):>8.3f}{float(r['naive']):>9.3f}{ratio:>8.1f}x"
        )
    print(
        "seconds, best of",
        args.repeat,
        "(naive: one run); total = one pipeline: load, validate, then every query (the analysis is shared)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
