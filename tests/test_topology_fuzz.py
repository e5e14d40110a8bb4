"""Thousands of malformed or mutated topologies never raise an uncaught exception."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from action_lib.errors import InputError
from action_lib.topology import queries as q
from action_lib.topology.loader import check_topology_text
from action_lib.topology.model import Conditions
from tests.topologies import MINIMAL

REPO_TOPOLOGY = (Path(__file__).resolve().parent.parent / "BUILD_TOPOLOGY.toml").read_text(
    encoding="utf-8"
)
VALUES = [
    '"x"',
    "1",
    "true",
    "[]",
    '["a", 1]',
    "{ a = 1 }",
    "{ windows = 2 }",
    "[{ name = 1 }]",
    '"../x"',
    '"/abs"',
    '"Bad Name"',
    "3.5",
]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.randrange(7)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2 and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {rng.choice(VALUES)}"
        elif op == 3 and lines[i]:
            pos = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:pos] + rng.choice("[]{}\"'=,.#-_ aZ9\\") + lines[i][pos + 1 :]
        elif op == 4:
            names = [
                w.strip('"')
                for line in lines
                for w in line.replace("[", " ").replace("]", " ").replace(",", " ").split()
                if w.startswith('"')
            ]
            if names and "[" in lines[i] and "=" in lines[i]:
                key = lines[i].split("=", 1)[0]
                lines[i] = f'{key}= ["{rng.choice(names)}", "{rng.choice(names)}"]'
        elif op == 5:
            lines.insert(
                i,
                f"{rng.choice(['artifact_dep', 'typ', 'path_prefixes', 'platform', 'submodules'])} = {rng.choice(VALUES)}",
            )
        else:
            lines.insert(
                i,
                rng.choice(
                    [
                        "[artifacts.zz]",
                        "[build_stages.first]",
                        "[source_sets]",
                        "[[artifacts]]",
                        "[artifacts.alpha.x]",
                    ]
                ),
            )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("base", [MINIMAL, REPO_TOPOLOGY], ids=["minimal", "repository"])
def test_mutations_never_escape(base: str) -> None:
    rng = random.Random(20261129)
    outcomes = {"clean": 0, "findings": 0}
    for _ in range(1500):
        text = mutate(base, rng)
        topology, findings = check_topology_text(text, "T.toml")
        if findings:
            outcomes["findings"] += 1
            for finding in findings:
                assert finding.format().startswith("T.toml")
                assert "\n" not in finding.format()
            continue
        outcomes["clean"] += 1
        for cond in (Conditions(), Conditions("windows", "aarch64")):
            try:
                q.stage_waves(topology, cond)
                q.expand_jobs(topology, ["fam-a", "fam-b"], cond)
                for stage in topology.build_stages:
                    q.inbound_artifacts(topology, stage, cond)
                    q.stage_submodules(topology, stage, cond.platform)
            except InputError:
                pass
    assert outcomes["findings"] > 500  # the mutator really breaks things


def test_random_bytes_never_escape() -> None:
    rng = random.Random(7)
    for _ in range(500):
        blob = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        _, findings = check_topology_text(blob.decode("latin-1"), "T.toml")
        assert all(f.format().startswith("T.toml") for f in findings)
