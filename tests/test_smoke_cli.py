"""The CLI answers on the repository's own topology."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from action_lib.cli.main import main


def test_validate_own_topology(repo_root: Path, capsys: object) -> None:
    assert main(["topology", "validate", "--topology", str(repo_root / "BUILD_TOPOLOGY.toml")]) == 0


def test_python_dash_m(repo_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "action_lib", "topology", "validate"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout
