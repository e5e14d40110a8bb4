"""Graph algorithms over string-named nodes: cycles, waves, order, transitive closure.

All iterative (no recursion, so no depth limit) and deterministic (ties broken by name).
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping, Sequence

Edges = Mapping[str, Iterable[str]]


def find_cycles(nodes: Iterable[str], deps: Edges) -> list[list[str]]:
    """One cycle per strongly connected component that has one, as ``[a, b, ..., a]``.

    Edges to names outside ``nodes`` are ignored. Iterative Tarjan, so any depth works.
    """
    node_list = sorted(set(nodes))
    known = set(node_list)
    succ = {n: sorted(d for d in set(deps.get(n, ())) if d in known) for n in node_list}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in node_list:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, pos = work.pop()
            if pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = succ[node]
            if pos < len(children):
                work.append((node, pos + 1))
                child = children[pos]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in succ[node]:
                    components.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted((_cycle_in(c, succ) for c in components), key=lambda c: c[0])


def _cycle_in(component: list[str], succ: Mapping[str, list[str]]) -> list[str]:
    """A shortest cycle through the smallest node of a strongly connected component."""
    members = set(component)
    start = component[0]
    parent: dict[str, str] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for child in succ[node]:
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if child not in seen:
                    seen.add(child)
                    parent[child] = node
                    nxt.append(child)
        frontier = nxt
    raise AssertionError("component without a cycle")  # pragma: no cover


def waves(nodes: Iterable[str], deps: Edges) -> list[list[str]]:
    """Parallel waves: wave k holds the nodes whose dependencies are all in earlier waves.

    Raises graphlib.CycleError on a cycle. Edges to unknown names are ignored.
    """
    node_set = set(nodes)
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node in sorted(node_set):
        sorter.add(node, *sorted(d for d in set(deps.get(node, ())) if d in node_set))
    sorter.prepare()
    out: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        out.append(ready)
        sorter.done(*ready)
    return out


def order(nodes: Iterable[str], deps: Edges) -> list[str]:
    """A deterministic topological order (dependencies first): the waves, concatenated."""
    return [n for wave in waves(nodes, deps) for n in wave]


def closures(topo_order: Sequence[str], deps: Edges) -> dict[str, int]:
    """Transitive dependencies of every node as a bit set over ``topo_order`` positions.

    ``topo_order`` must list dependencies before dependents; bit ``i`` stands for
    ``topo_order[i]``. Edges to names outside the order are ignored.
    """
    position = {name: i for i, name in enumerate(topo_order)}
    out: dict[str, int] = {}
    for name in topo_order:
        mask = 0
        for dep in deps.get(name, ()):
            i = position.get(dep)
            if i is not None:
                mask |= out[dep] | (1 << i)
        out[name] = mask
    return out


def demand(topo_order: Sequence[str], deps: Edges, owner_bit: Mapping[str, int]) -> dict[str, int]:
    """For every node, the bit set of owners that need it, directly or transitively.

    ``owner_bit[n]`` is the bit (a power of two) of the owner of node ``n``; nodes without an
    owner may be left out. A node is needed by owner ``o`` when some node of ``o`` depends on
    it through any chain. One pass in reverse topological order: O(nodes + edges) when owners
    fit in a machine word or two.
    """
    need = dict.fromkeys(topo_order, 0)
    for name in reversed(topo_order):
        carried = need[name] | owner_bit.get(name, 0)
        if carried:
            for dep in deps.get(name, ()):
                if dep in need:
                    need[dep] |= carried
    return need


def bits_to_names(mask: int, topo_order: Sequence[str]) -> list[str]:
    """The names of the set bits of ``mask`` (see :func:`closures`)."""
    names: list[str] = []
    text = bin(mask)[:1:-1]  # little-endian digits without the "0b" prefix
    start = text.find("1")
    while start != -1:
        names.append(topo_order[start])
        start = text.find("1", start + 1)
    return names
