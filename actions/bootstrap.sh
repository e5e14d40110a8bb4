# Sourced (bash) by the step of every rockshard action, with ACTION_PATH set to the action's
# directory. Sets ROCKSHARD_PY: an interpreter that runs this action's own backend with
# `"$ROCKSHARD_PY" -m action_lib ...`, whatever repository the workflow belongs to.
#
# 1. ROCKSHARD_PYTHON names an interpreter that already has rockshard's dependencies (a prepared
#    runner, a local replay): it runs the action's own sources through PYTHONPATH.
# 2. Otherwise the backend is installed from the action's own checkout into a virtual
#    environment under ROCKSHARD_VENV_CACHE (default: the runner's tool cache), keyed by the
#    action's version (the project version and a digest of its sources) and the Python. The next
#    action of the job finds it there (and, on a self-hosted runner, the next job). A venv is
#    built beside its final place and renamed into it, so parallel jobs never see half of one.
#
# The base interpreter is ROCKSHARD_BOOTSTRAP_PYTHON, else the first python3 or python of 3.10
# or later on PATH (the workflows pin it with actions/setup-python).

# The checkout's root: as a Windows path under Git Bash (pwd -W), for the native Python.
rockshard_root="$(cd "$ACTION_PATH/../.." && { pwd -W 2>/dev/null || pwd; })"
if [ -n "${ROCKSHARD_PYTHON:-}" ]; then
  ROCKSHARD_PY="$ROCKSHARD_PYTHON"
  export PYTHONPATH="$rockshard_root"
else
  rockshard_base=""
  for rockshard_candidate in "${ROCKSHARD_BOOTSTRAP_PYTHON:-}" python3 python; do
    if [ -n "$rockshard_candidate" ] &&
      "$rockshard_candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      rockshard_base="$rockshard_candidate"
      break
    fi
  done
  if [ -z "$rockshard_base" ]; then
    echo "::error::rockshard needs Python 3.10 or later on PATH (actions/setup-python) or ROCKSHARD_PYTHON"
    exit 2
  fi
  rockshard_key="$("$rockshard_base" - "$rockshard_root" <<'PY'
import hashlib, pathlib, platform, re, sys
root = pathlib.Path(sys.argv[1])
files = [root / "pyproject.toml", *(root / "action_lib").rglob("*")]
digest = hashlib.sha256()
for path in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts):
    digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
found = re.search(r'^version = "([^"]+)"', (root / "pyproject.toml").read_text(), re.M)
version = found.group(1) if found else "0"
python = f"{sys.implementation.name}{sys.version_info[0]}.{sys.version_info[1]}"
print(f"rockshard-{version}-{digest.hexdigest()[:16]}-{python}-{platform.machine().lower()}")
PY
)" || exit 1
  rockshard_cache="${ROCKSHARD_VENV_CACHE:-${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/rockshard}"
  rockshard_venv="$rockshard_cache/$rockshard_key"
  rockshard_bin="$rockshard_venv/bin/python"
  [ -x "$rockshard_bin" ] || rockshard_bin="$rockshard_venv/Scripts/python.exe"
  if [ ! -f "$rockshard_venv/.complete" ]; then
    rockshard_build="$rockshard_venv.tmp-$$-$RANDOM"
    echo "rockshard: installing the backend from $rockshard_root into $rockshard_venv"
    mkdir -p "$rockshard_build/src" || exit 1
    # A copy of what the package needs, so that the action's checkout stays as it is.
    cp -R "$rockshard_root/pyproject.toml" "$rockshard_root/README.md" \
      "$rockshard_root/action_lib" "$rockshard_build/src/" &&
      "$rockshard_base" -m venv "$rockshard_build/venv" &&
      { [ -x "$rockshard_build/venv/bin/python" ] &&
        rockshard_new="$rockshard_build/venv/bin/python" ||
        rockshard_new="$rockshard_build/venv/Scripts/python.exe"; } &&
      "$rockshard_new" -m pip install --quiet --disable-pip-version-check \
        "$rockshard_build/src" &&
      touch "$rockshard_build/venv/.complete" || {
        echo "::error::rockshard: could not install the backend into a virtual environment"
        rm -rf "$rockshard_build"
        exit 1
      }
    # Another job may have finished first: its venv is as good as this one.
    mv -T "$rockshard_build/venv" "$rockshard_venv" 2>/dev/null || [ -f "$rockshard_venv/.complete" ] || {
      echo "::error::rockshard: could not move the virtual environment to $rockshard_venv"
      rm -rf "$rockshard_build"
      exit 1
    }
    rm -rf "$rockshard_build"
    rockshard_bin="$rockshard_venv/bin/python"
    [ -x "$rockshard_bin" ] || rockshard_bin="$rockshard_venv/Scripts/python.exe"
  fi
  ROCKSHARD_PY="$rockshard_bin"
fi
