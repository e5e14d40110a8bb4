"""The repository's own super-build, configured and built with real cmake and ninja.

One monolithic build (every artifact, two GPU families) is shared by the module; smaller builds
seed it as prebuilt stage dirs, the way a pipeline job bootstraps its inbound artifacts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from action_lib.families import expand_families, family_targets
from action_lib.inputs.toml import tomllib
from action_lib.topology import load_topology, queries
from action_lib.topology.model import Topology

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
FAMILIES = ("gfx110X-all", "gfx94X-dcgpu")
RESULT = re.compile(r"^RESULT (\S+) (\S+) (.*) (ok|FAIL)$", re.M)
FIELD = re.compile(r"(\w+)=('[^']*'|\S+)")
TESTS = ("blas-test", "rand-test", "fft-test", "dnn-test", "ml-sample-mlp")
MASK = (1 << 64) - 1


def _tool(name: str) -> str:
    """A tool from PATH, else from the virtual environment running the tests."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is neither on PATH nor in {Path(sys.executable).parent}")
    return found


CMAKE = _tool("cmake")
NINJA = _tool("ninja")


def _run(
    args: Sequence[str | Path], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, timeout=600, env=env
    )


def configure(
    source: Path, build: Path, *defines: str, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """``cmake -S source -B build -G Ninja`` with rockshard's Python and the test's ninja."""
    result = _run(
        [
            CMAKE,
            "-S",
            source,
            "-B",
            build,
            "-G",
            "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={NINJA}",
            f"-DROCKSHARD_PYTHON={sys.executable}",
            *defines,
        ]
    )
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def build(build_dir: Path, *targets: str) -> str:
    """``cmake --build`` (default target, or ``targets``); returns its output."""
    args: list[str | Path] = [CMAKE, "--build", build_dir]
    if targets:
        args += ["--target", *targets]
    result = _run(args)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    return output


def stage_dirs() -> dict[str, tuple[str, ...]]:
    """Artifact -> the stage dirs its descriptor (src/**/artifact-<name>.toml) names."""
    out: dict[str, tuple[str, ...]] = {}
    for path in sorted((REPO / "src").rglob("artifact-*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        dirs = {d for component in data["components"].values() for d in component}
        out[path.stem.removeprefix("artifact-")] = tuple(sorted(dirs))
    return out


def closure(topology: Topology, names: Iterable[str]) -> set[str]:
    """The artifacts ``names`` need, themselves included (computed here, not by rockshard)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(topology.artifacts[name].artifact_deps)
    return seen


def copy_source(dest: Path, without: Iterable[str] = ()) -> Path:
    """A copy of the super-build's sources, minus the folders ``without``."""
    dest.mkdir(parents=True)
    for name in ("CMakeLists.txt", "BUILD_TOPOLOGY.toml"):
        shutil.copy2(REPO / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("action_lib", "cmake", "src"):  # action_lib: rockshard runs from the checkout
        shutil.copytree(REPO / folder, dest / folder, ignore=ignore)
    for folder in without:
        shutil.rmtree(dest / folder)
    return dest


def seed_prebuilt(monolithic: Path, build_dir: Path, artifacts: Iterable[str]) -> None:
    """Copy the artifacts' stage dirs from the monolithic build and mark them prebuilt."""
    dirs = stage_dirs()
    for artifact in artifacts:
        for stage in dirs[artifact]:
            shutil.copytree(monolithic / stage, build_dir / stage, symlinks=True)
            (build_dir / f"{stage}.prebuilt").touch()


def source_folders(artifacts: Iterable[str]) -> set[str]:
    """The src/ folders of the artifacts (each descriptor sits in its subproject's folder)."""
    return {
        path.parent.relative_to(REPO).as_posix()
        for name in artifacts
        for path in (REPO / "src").rglob(f"artifact-{name}.toml")
    }


def results(output: str) -> dict[str, dict[str, str]]:
    """``RESULT <tool> <target> k=v ... ok|FAIL`` lines: target -> fields (and status)."""
    out: dict[str, dict[str, str]] = {}
    for match in RESULT.finditer(output):
        fields = dict(FIELD.findall(match.group(3)))
        fields["status"] = match.group(4)
        out[match.group(2)] = fields
    return out


def wave_of(target: str) -> int:
    """Wave size by the gfx major version: gfx9 runs 64 lanes, gfx10 and later 32."""
    major = int(target[3:-2])
    return 64 if major <= 9 else 32


def splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


@pytest.fixture(scope="module")
def topology() -> Topology:
    loaded: Topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    return loaded


@pytest.fixture(scope="module")
def monolithic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build directory, everything enabled, two families: configured and built."""
    build_dir = tmp_path_factory.mktemp("monolithic") / "build"
    configure(REPO, build_dir, f"-DROCKSHARD_AMDGPU_FAMILIES={';'.join(FAMILIES)}")
    build(build_dir)
    return build_dir


def _exec(program: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    merged = {k: v for k, v in os.environ.items() if not k.startswith("ROCKSHARD_")}
    result = _run([program, *args], env={**merged, **(env or {})})
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("program", TESTS, ids=TESTS)
def test_each_target_runs_its_own_kernels(monolithic: Path, program: str) -> None:
    status, output = _exec(monolithic / "dist" / "bin" / program)
    assert status == 0, output
    found = results(output)
    assert sorted(found) == sorted(expand_families(FAMILIES)), output
    for target, fields in found.items():
        assert fields["status"] == "ok", (target, output)
        assert int(fields["wave"]) == wave_of(target), (target, output)
    # The kernels differ per target; what they compute does not (except the lane sums).
    values = {
        tuple((k, v) for k, v in sorted(f.items()) if k not in ("wave", "lanes"))
        for f in found.values()
    }
    assert len(values) == 1, output


def test_kernel_results_match_python(monolithic: Path) -> None:
    n = 1000
    _, output = _exec(monolithic / "dist" / "bin" / "blas-test")
    for target, fields in results(output).items():
        wave = wave_of(target)
        assert int(fields["dot"]) == sum((i + 1) * 3 * i for i in range(n)) & MASK
        assert int(fields["axpy_sum"]) == sum(7 * (i + 1) + 3 * i for i in range(n)) & MASK
        assert int(fields["lanes"]) == sum(i % wave for i in range(n)), target
    _, output = _exec(monolithic / "dist" / "bin" / "rand-test")
    for fields in results(output).values():
        assert int(fields["generate_sum"]) == sum(splitmix64(42 + i) for i in range(4096)) & MASK
        assert int(fields["uniform_sum"]) == sum(splitmix64(42 + i) % 1000 for i in range(4096))


def test_tools_see_every_target(monolithic: Path, topology: Topology) -> None:
    dist = monolithic / "dist"
    targets = expand_families(FAMILIES)
    per_arch = sum(a.type == "target-specific" for a in topology.artifacts.values())
    status, output = _exec(dist / "bin" / "kinfo", "--check")
    assert status == 0, output
    for target in targets:
        modules = sorted(p.stem for p in (dist / "lib" / "kernels" / target).glob("*.kco"))
        assert len(modules) == per_arch, (target, modules)
        for module in modules:
            row = re.search(rf"^\d+\s+{target}\s+{module}\s+(\d+)\s+\S+\s+ok$", output, re.M)
            assert row is not None and int(row.group(1)) == wave_of(target), output
    status, output = _exec(dist / "bin" / "rs-smi")
    assert status == 0 and all(
        re.search(rf"\s{t}\s+{wave_of(t)}\s+{per_arch}$", output, re.M) for t in targets
    )
    status, output = _exec(dist / "bin" / "ccl-test")
    assert status == 0, output
    assert f"ranks={len(targets)} " in output and output.rstrip().endswith("ok")


def test_a_wrong_code_object_cannot_pass(monolithic: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(monolithic / "dist", dist, symlinks=True)
    kernels = dist / "lib" / "kernels"
    shutil.copy2(kernels / "gfx1100" / "rsblas.kco", kernels / "gfx942" / "rsblas.kco")
    status, output = _exec(dist / "bin" / "blas-test")
    found = results(output)
    assert status == 1
    assert found["gfx942"]["status"] == "FAIL" and "built for gfx1100" in found["gfx942"]["detail"]
    assert found["gfx1101"]["status"] == "ok"
    shutil.rmtree(kernels / "gfx942")
    status, output = _exec(dist / "bin" / "blas-test", "gfx942", "gfx1100")
    assert status == 1 and results(output)["gfx942"]["status"] == "FAIL", output
    status, output = _exec(dist / "bin" / "blas-test", env={"ROCKSHARD_VISIBLE_DEVICES": "gfx942"})
    assert status == 1 and "is not installed" in output, output


def test_dist_holds_every_stage_file_and_no_build_path(monolithic: Path) -> None:
    dist = monolithic / "dist"
    count = 0
    for dirs in stage_dirs().values():
        for stage in dirs:
            for path in sorted((monolithic / stage).rglob("*")):
                copy = dist / path.relative_to(monolithic / stage)
                if path.is_symlink():
                    assert os.readlink(copy) == os.readlink(path), copy
                elif path.is_file():
                    assert copy.read_bytes() == path.read_bytes(), copy
                    count += 1
    assert count == sum(1 for p in dist.rglob("*") if p.is_file() and not p.is_symlink())
    leaks = (str(monolithic).encode(), str(REPO).encode())
    for path in dist.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            assert not any(leak in data for leak in leaks), path


def test_every_artifact_has_a_descriptor(topology: Topology) -> None:
    dirs = stage_dirs()
    assert sorted(dirs) == sorted(topology.artifacts)
    for name, stages in dirs.items():
        assert stages, name


def test_requirements_are_switched_on(topology: Topology, tmp_path: Path) -> None:
    result = configure(
        REPO,
        tmp_path / "build",
        "-DROCKSHARD_ENABLE_ALL=OFF",
        "-DROCKSHARD_ENABLE_FFT=ON",
        "-DROCKSHARD_AMDGPU_FAMILIES=gfx94X-dcgpu",
    )
    declared = set(re.findall(r"rockshard subproject \S+ \(artifact (\S+)\): build", result.stdout))
    assert declared == closure(topology, ["fft"])
    assert re.search(r"^-- +BLAS +ON +blas \(required by FFT\)$", result.stdout, re.M)
    assert re.search(r"^-- +DNN +OFF +dnn$", result.stdout, re.M)


@pytest.mark.parametrize(
    "call",
    [
        "rockshard_artifact(bogus DESCRIPTOR src/bogus/artifact-bogus.toml)",
        "rockshard_subproject(bogus ARTIFACT bogus SOURCE_DIR src/bogus)",
    ],
    ids=["artifact", "subproject"],
)
def test_an_unknown_artifact_fails_configuration(tmp_path: Path, call: str) -> None:
    source = copy_source(tmp_path / "source")
    lists = source / "CMakeLists.txt"
    text = lists.read_text(encoding="utf-8")
    lists.write_text(
        text.replace(
            "rockshard_finalize_subprojects()", f"{call}\n" + "rockshard_finalize_subprojects()"
        ),
        encoding="utf-8",
    )
    result = configure(source, tmp_path / "build", "-DROCKSHARD_ENABLE_ALL=OFF", ok=False)
    assert result.returncode != 0
    assert "unknown artifact 'bogus'" in result.stderr, result.stderr


@pytest.fixture(scope="module")
def blas_builds(
    monolithic: Path, topology: Topology, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, str]]:
    """For each family: a build of blas (and math-support) alone, every other dependency
    prebuilt and its sources deleted. Family -> (build dir, build log)."""
    upstream = closure(topology, ["blas"]) - {"blas", "math-support"}
    root = tmp_path_factory.mktemp("blas")
    unused = set(topology.artifacts) - {"blas", "math-support"}
    source = copy_source(root / "source", without=source_folders(unused))
    out: dict[str, tuple[Path, str]] = {}
    for family in FAMILIES:
        build_dir = root / family
        seed_prebuilt(monolithic, build_dir, upstream)
        result = configure(
            source,
            build_dir,
            "-DROCKSHARD_ENABLE_ALL=OFF",
            "-DROCKSHARD_ENABLE_BLAS=ON",
            f"-DROCKSHARD_AMDGPU_FAMILIES={family}",
        )
        log = result.stdout + build(build_dir) + build(build_dir, "stage-math-libs")
        out[family] = (build_dir, log)
    return out


def test_prebuilt_subprojects_are_neither_configured_nor_built(
    blas_builds: dict[str, tuple[Path, str]], topology: Topology
) -> None:
    upstream = closure(topology, ["blas"]) - {"blas", "math-support"}
    for family, (build_dir, log) in blas_builds.items():
        for artifact in upstream:
            assert f"(artifact {artifact}): prebuilt" in log
            for stage in stage_dirs()[artifact]:
                assert not (build_dir / stage).with_name("build").exists()
        subprojects = re.findall(r"Configuring subproject (\S+)", log)
        assert sorted(subprojects) == ["blas", "math-support"]
        assert sorted(re.findall(r"Building subproject (\S+)", log)) == sorted(subprojects * 2)
        status, output = _exec(build_dir / "dist" / "bin" / "blas-test")
        assert status == 0, output
        assert sorted(results(output)) == sorted(family_targets(family))


def test_without_prebuilt_marker_missing_sources_fail(
    blas_builds: dict[str, tuple[Path, str]], tmp_path: Path
) -> None:
    source = next(iter(blas_builds.values()))[0].parent / "source"
    result = configure(
        source,
        tmp_path / "build",
        "-DROCKSHARD_ENABLE_ALL=OFF",
        "-DROCKSHARD_ENABLE_BLAS=ON",
        "-DROCKSHARD_AMDGPU_FAMILIES=gfx94X-dcgpu",
        ok=False,
    )
    assert result.returncode != 0
    assert re.search(r"subproject \S+: no sources at src/", result.stderr), result.stderr


def _tree(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def test_generic_halves_are_identical_across_families(
    blas_builds: dict[str, tuple[Path, str]], monolithic: Path
) -> None:
    (first, _), (second, _) = (blas_builds[f] for f in FAMILIES)
    components = sorted(p.name for p in (first / "artifacts").glob("blas_*_generic"))
    assert components == sorted(p.name for p in (second / "artifacts").glob("blas_*_generic"))
    assert len(components) == 5
    for name in components:
        generic = _tree(first / "artifacts" / name)
        assert generic == _tree(second / "artifacts" / name), name
        assert not any("/kernels/" in rel for rel in generic), name
    for family, (build_dir, _) in blas_builds.items():
        half = _tree(build_dir / "artifacts" / f"blas_lib_{family}")
        expected = {
            f"math-libs/blas/stage/lib/kernels/{t}/rsblas.kco" for t in family_targets(family)
        }
        assert set(half) - {"artifact_manifest.txt"} == expected
        # A shard's host library is byte-identical to the monolithic build's.
        lib = "math-libs/blas/stage/lib/librsblas.so.1.0.0"
        assert (build_dir / lib).read_bytes() == (monolithic / lib).read_bytes()


@pytest.mark.parametrize(
    ("how", "report"),
    [
        ("-DROCKSHARD_ENABLE_SMI=OFF", r"^-- +SMI +OFF +smi$"),
        ("-DROCKSHARD_PROCESSOR=aarch64", r"^-- +SMI +OFF +smi \(disabled on aarch64\)$"),
    ],
    ids=["option-off", "processor-aarch64"],
)
def test_a_disabled_subproject_is_never_read(
    monolithic: Path, topology: Topology, tmp_path: Path, how: str, report: str
) -> None:
    inbound = queries.inbound_artifacts(topology, "tools")
    built = set(topology.artifacts) - set(inbound) - {"kinfo"}
    source = copy_source(tmp_path / "source", without=source_folders(built))
    assert not (source / "src" / "tools" / "smi").exists()
    build_dir = tmp_path / "build"
    seed_prebuilt(monolithic, build_dir, inbound)
    result = configure(
        source, build_dir, "-DROCKSHARD_ENABLE_ALL=OFF", "-DROCKSHARD_ENABLE_TOOLS=ON", how
    )
    assert re.search(report, result.stdout, re.M), result.stdout
    log = build(build_dir)
    assert re.findall(r"Building subproject (\S+)", log) == ["kinfo"]
    assert (build_dir / "dist" / "bin" / "kinfo").is_file()
    assert not (build_dir / "dist" / "bin" / "rs-smi").exists()
    status, output = _exec(build_dir / "dist" / "bin" / "kinfo")
    assert status == 0 and "devices: 0" in output, output
