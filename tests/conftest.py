"""Shared fixtures: paths to the repository, its topology, and TheRock's reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_THEROCK = REPO.parent / "shared" / "therock"
pytest_plugins = ["tests.s3_server", "tests.github_server"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def therock_dir() -> Path:
    """TheRock's reference data (../shared/therock); skips when absent (a user's clone)."""
    if not (SHARED_THEROCK / "BUILD_TOPOLOGY.toml").is_file():
        pytest.skip("../shared/therock is absent: TheRock reference data is only in CI")
    return SHARED_THEROCK


@pytest.fixture(scope="session")
def therock_topology_path(therock_dir: Path) -> Path:
    """TheRock's real BUILD_TOPOLOGY.toml."""
    return therock_dir / "BUILD_TOPOLOGY.toml"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--slow``: also run the tests marked slow (soak, races, kills; the stage cache's S3
    variants)."""
    parser.addoption("--slow", action="store_true", help="also run the tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the slow tests unless ``--slow`` is given or ``-m`` names them."""
    if config.getoption("--slow") or "slow" in str(config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow or -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
