"""The sharded pipeline workflows, generated so the wave jobs stay identical. Pure.

The workflow is static: it depends on the platform, the number of wave jobs and the runner of
its own jobs only, never on the topology's stages or artifacts, which reach it at run time
through the setup job's matrices. What a real GitHub run needs is in it (docs/github.md): the
store chosen per trust level by the setup job, credentials only in the steps that talk to the
store (OIDC when a role is set), a pinned Python, CMake and Ninja (and on Windows the MSVC
environment with clang-cl), one ``SOURCE_DATE_EPOCH`` for every job, and a concurrency group
that cancels a pull request's superseded runs. Steps that download remote actions or change
the machine are skipped under act (``!env.ACT``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from action_lib.pipeline.config import DEFAULT_RUNNERS, RunsOn

PYTHON_VERSION = "3.12"  # the Python the workflows pin (actions/setup-python)
CMAKE_VERSION = "3.31.6"
NINJA_VERSION = "1.11.1.4"
MSVC_TOOLSET = "14.44"  # vcvars -vcvars_ver; the ROCKSHARD_MSVC_TOOLSET variable overrides it
SETUP_TIMEOUT = 30
# The setup job's outputs that stage and assembly jobs read (compute-matrix's outputs).
RUN_OUTPUTS = (
    "waves",
    "affected-stages",
    "families",
    "store",
    "external-repo",
    "run-location",
    "trusted-store",
    "trusted",
    "publishes",
    "store-role",
    "store-region",
    "store-endpoint-url",
    "source-date-epoch",
)
_PLAIN_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
REPORT_VARIABLE = "ROCKSHARD_RUN_REPORT"  # a repository variable; "false" skips the report job
HIT = "steps.setup.outputs.cache-hit != 'true'"  # the stage cache reused the stage: skip
CACHE_MODE = "${{ vars.ROCKSHARD_CACHE || 'auto' }}"  # the stage cache's mode (docs/cache.md)


@dataclass(frozen=True)
class WorkflowOptions:
    """What a generated workflow may vary."""

    platform: str
    max_waves: int = 6
    default_families: str = "presubmit"
    topology: str = "BUILD_TOPOLOGY.toml"
    dialect: str = "rockshard"
    runs_on: RunsOn = ""  # the setup and assembly jobs' runner ("": the platform's default)
    timeout_minutes: int = 60  # the assembly job's
    actions: str = ""  # OWNER/REPO@REF of rockshard's actions ("": ./actions of this repository)


def yaml_runs_on(runs_on: RunsOn) -> str:
    """``runs-on`` as YAML: a plain label, or a flow list of labels (never a comma-separated
    string, which names one label that no runner has)."""
    labels = (runs_on,) if isinstance(runs_on, str) else runs_on
    quoted = [lb if _PLAIN_LABEL.match(lb) else json.dumps(lb) for lb in labels]
    return quoted[0] if isinstance(runs_on, str) else f"[{', '.join(quoted)}]"


def _uses(opts: WorkflowOptions, action: str) -> str:
    if not opts.actions:
        return f"./actions/{action}"
    repo, _, ref = opts.actions.partition("@")
    return f"{repo}/actions/{action}@{ref or 'main'}"


def _python_step(indent: str) -> list[str]:
    return [
        f"{indent}- name: Pin Python",
        f"{indent}  if: ${{{{ !env.ACT }}}}",
        f"{indent}  uses: actions/setup-python@v6",
        f"{indent}  with:",
        f'{indent}    python-version: "{PYTHON_VERSION}"',
    ]


def _oidc_step(indent: str, run: str = "needs.setup.outputs") -> list[str]:
    # Credentials come back as step outputs and go only to the store steps' env; nothing is
    # exported to the job (output-env-credentials: false). ``run`` holds the run's store
    # outputs (the setup job's, or in the setup job its matrix step's).
    return [
        f"{indent}- id: aws",
        f"{indent}  name: Assume the store's IAM role (OIDC)",
        f"{indent}  if: ${{{{ !env.ACT && {run}.store-role != '' }}}}",
        f"{indent}  uses: aws-actions/configure-aws-credentials@v6",
        f"{indent}  with:",
        f"{indent}    role-to-assume: ${{{{ {run}.store-role }}}}",
        f"{indent}    aws-region: ${{{{ {run}.store-region }}}}",
        f"{indent}    output-credentials: true",
        f"{indent}    output-env-credentials: false",
    ]


def _credentials(indent: str, run: str = "needs.setup.outputs") -> list[str]:
    """The env of a step that talks to the store: the OIDC step's credentials, else the static
    keys of the run's trust level (secrets; forks' pull requests get none)."""
    trusted = f"{run}.trusted == 'true'"

    def pick(output: str, secret: str) -> str:
        return (
            f"${{{{ steps.aws.outputs.{output} || ({trusted} && secrets.{secret} || "
            f"secrets.UNTRUSTED_{secret}) }}}}"
        )

    return [
        f"{indent}env:",
        f"{indent}  AWS_ACCESS_KEY_ID: {pick('aws-access-key-id', 'AWS_ACCESS_KEY_ID')}",
        f"{indent}  AWS_SECRET_ACCESS_KEY: "
        f"{pick('aws-secret-access-key', 'AWS_SECRET_ACCESS_KEY')}",
        f"{indent}  AWS_SESSION_TOKEN: ${{{{ steps.aws.outputs.aws-session-token }}}}",
    ]


def _store_inputs(indent: str) -> list[str]:
    return [
        f"{indent}store: ${{{{ needs.setup.outputs.store }}}}",
        f"{indent}external-repo: ${{{{ needs.setup.outputs.external-repo }}}}",
        f"{indent}endpoint-url: ${{{{ needs.setup.outputs.store-endpoint-url }}}}",
    ]


def _windows_toolchain_step(indent: str) -> list[str]:
    # The MSVC developer environment of a pinned toolset, with clang-cl and lld-link as the
    # compilers (deterministic DLLs and PDBs with /Brepro, see cmake/rockshard_subproject.cmake).
    body = [
        '$vswhere = "${env:ProgramFiles(x86)}\\Microsoft Visual Studio\\Installer\\vswhere.exe"',
        "$vs = & $vswhere -latest -products * -property installationPath",
        '$vcvars = Join-Path $vs "VC\\Auxiliary\\Build\\vcvars64.bat"',
        '$lines = cmd /c "`"$vcvars`" -vcvars_ver=$env:MSVC_TOOLSET >nul && set"',
        "if ($LASTEXITCODE) {",
        '  Write-Output "::error::MSVC toolset $env:MSVC_TOOLSET is not on this image: set the '
        'ROCKSHARD_MSVC_TOOLSET variable (docs/github.md)"',
        "  exit 1",
        "}",
        "foreach ($line in $lines) {",
        "  if ($line -match '^([^=]+)=(.*)$' -and "
        "[Environment]::GetEnvironmentVariable($Matches[1]) -ne $Matches[2]) {",
        '    "$($Matches[1])=$($Matches[2])" >> $env:GITHUB_ENV',
        "  }",
        "}",
        '"CC=clang-cl" >> $env:GITHUB_ENV',
        '"CXX=clang-cl" >> $env:GITHUB_ENV',
        "clang-cl --version",
    ]
    return [
        f"{indent}- name: Pin the Windows toolchain (MSVC environment; clang-cl, lld-link)",
        f"{indent}  if: ${{{{ !env.ACT }}}}",
        f"{indent}  shell: pwsh",
        f"{indent}  env:",
        f"{indent}    MSVC_TOOLSET: ${{{{ vars.ROCKSHARD_MSVC_TOOLSET || '{MSVC_TOOLSET}' }}}}",
        f"{indent}  run: |",
        *(f"{indent}    {line}" for line in body),
    ]


def _wave_job(k: int, opts: WorkflowOptions) -> list[str]:
    needs = ", ".join(["setup", *(f"wave-{i}" for i in range(k))])
    # An empty or redacted output must not turn into fromJSON('') (a failed run).
    out = f"(needs.setup.outputs.wave-{k} || '[]')"
    lines = [
        f"  wave-{k}:",
        f'    name: "wave {k}: ${{{{ matrix.stage }}}} ${{{{ matrix.family }}}}"',
        f"    needs: [{needs}]",
        f"    if: ${{{{ !cancelled() && !failure() && {out} != '[]' }}}}",
        "    strategy:",
        "      fail-fast: false",
        "      matrix:",
        f"        include: ${{{{ fromJSON{out} }}}}",
        "    runs-on: ${{ matrix.runs-on }}",
        "    timeout-minutes: ${{ matrix.timeout-minutes }}",
        "    env:",
        "      SOURCE_DATE_EPOCH: ${{ needs.setup.outputs.source-date-epoch }}",
        "    steps:",
        "      - uses: actions/checkout@v5",
        "        with:",
        "          sparse-checkout: ${{ matrix.sparse-checkout }}",
        *_python_step("      "),
        "      - name: Pin CMake and Ninja",
        "        if: ${{ !env.ACT }}",
        "        shell: bash",
        "        run: >-",
        "          python -m pip install --disable-pip-version-check",
        f'          "cmake=={CMAKE_VERSION}" "ninja=={NINJA_VERSION}"',
        *(_windows_toolchain_step("      ") if opts.platform == "windows" else []),
        # The stage cache's lookup comes first (setup-stage): on a hit (the stage reused, or
        # cut off: its inbound archives byte-identical to an earlier run's) no later step runs.
        # Sources and inbound artifacts are separate steps so that a run report can tell
        # their times apart (GitHub's API times top-level steps only).
        *_oidc_step("      "),
        "      - id: setup",
        "        name: Fetch inbound artifacts",
        f"        uses: {_uses(opts, 'setup-stage')}",
        *_credentials("        "),
        "        with:",
        "          stage: ${{ matrix.stage }}",
        "          amdgpu-family: ${{ matrix.family }}",
        f"          platform: {opts.platform}",
        *_store_inputs("          "),
        f"          topology: {opts.topology}",
        f"          dialect: {opts.dialect}",
        '          fetch-sources: "false"',
        f"          cache: {CACHE_MODE}",
        "      - name: Sources",
        f"        if: {HIT}",
        f"        uses: {_uses(opts, 'fetch-stage-sources')}",
        "        with:",
        "          stage: ${{ matrix.stage }}",
        f"          platform: {opts.platform}",
        f"          topology: {opts.topology}",
        "      - name: Configure",
        f"        if: {HIT}",
        "        shell: bash",
        "        run: |",
        '          mapfile -t args < "${{ steps.setup.outputs.cmake-args-file }}"',
        '          cmake -S . -B "${{ steps.setup.outputs.build-dir }}" -G Ninja "${args[@]}"',
        "      - name: Build stage-${{ matrix.stage }}",
        f"        if: {HIT}",
        "        shell: bash",
        '        run: cmake --build "${{ steps.setup.outputs.build-dir }}" --target "stage-${{ matrix.stage }}"',
        "      - name: Push stage artifacts",
        f"        if: {HIT}",
        f"        uses: {_uses(opts, 'push-stage-artifacts')}",
        *_credentials("        "),
        "        with:",
        "          stage: ${{ matrix.stage }}",
        "          amdgpu-family: ${{ matrix.family }}",
        f"          platform: {opts.platform}",
        *_store_inputs("          "),
        f"          topology: {opts.topology}",
        "          build-dir: ${{ steps.setup.outputs.build-dir }}",
        f"          cache: {CACHE_MODE}",
        "",
    ]
    return lines


def _report_job(opts: WorkflowOptions, runner: str, waves: range) -> list[str]:
    """The last job: the run's report in its summary and as a page among the run's artifacts,
    even when a stage failed. ``rockshard replay`` skips it (``--var
    ROCKSHARD_RUN_REPORT=false``): under act there is no API to read the run from, and act
    would clone upload-artifact; the replay writes the report itself."""
    needs = ", ".join(["setup", *(f"wave-{k}" for k in waves), "assemble"])
    return [
        "  report:",
        f"    needs: [{needs}]",
        f"    if: ${{{{ always() && vars.{REPORT_VARIABLE} != 'false' }}}}",
        f"    runs-on: {runner}",
        "    steps:",
        "      - uses: actions/checkout@v5",
        *_python_step("      "),
        "      - name: Run report",
        "        continue-on-error: true",
        f"        uses: {_uses(opts, 'run-report')}",
        "        with:",
        f"          topology: {opts.topology}",
        f"          platform: {opts.platform}",
        "          html: ${{ runner.temp }}/rockshard-report.html",
        "      - name: Upload the run report",
        "        if: ${{ always() && !env.ACT }}",
        "        continue-on-error: true",
        "        uses: actions/upload-artifact@v6",
        "        with:",
        "          name: rockshard-report-${{ github.run_attempt }}",
        "          path: ${{ runner.temp }}/rockshard-report.html",
        "          if-no-files-found: ignore",
    ]


def _header(opts: WorkflowOptions) -> list[str]:
    title = "Linux" if opts.platform == "linux" else "Windows"
    pull = "github.event_name == 'pull_request'"
    return [
        f"# Generated by `rockshard workflow --platform {opts.platform}`: do not edit.",
        "# Regenerate with `rockshard workflow --platform "
        f"{opts.platform} --output .github/workflows/rockshard-{opts.platform}.yml`.",
        "# Setting up the store, credentials and runners: docs/github.md.",
        f"name: rockshard {title} pipeline",
        "",
        "on:",
        "  workflow_dispatch:",
        "    inputs:",
        "      amdgpu-families:",
        "        description: GPU families (comma separated) or a CI tier (presubmit, postsubmit, nightly)",
        f"        default: {opts.default_families}",
        "      store:",
        "        description: Artifact store, s3://bucket/prefix; empty for the configured one",
        '        default: ""',
        "  pull_request:",
        "  push:",
        "    branches: [main]",
        "",
        "permissions:",
        "  contents: read",
        "  pull-requests: read",
        "  actions: read  # the run report reads this run's jobs",
        "  id-token: write  # OIDC: the store steps assume the store's IAM role, when one is set",
        "",
        "# A pull request's newer push cancels its run in progress; other runs never wait.",
        "concurrency:",
        f"  group: ${{{{ github.workflow }}}}-${{{{ {pull} && github.ref || github.run_id }}}}",
        f"  cancel-in-progress: ${{{{ {pull} }}}}",
        "",
    ]


def generate_workflow(opts: WorkflowOptions) -> str:
    """The workflow YAML for ``opts.platform``, byte-stable for the same options."""
    runner = yaml_runs_on(opts.runs_on or DEFAULT_RUNNERS[opts.platform])
    waves = range(opts.max_waves)
    lines = [
        *_header(opts),
        "jobs:",
        "  setup:",
        f"    runs-on: {runner}",
        f"    timeout-minutes: {SETUP_TIMEOUT}",
        "    outputs:",
        # The waves without the jobs the stage cache reused (the matrix step's when the cache
        # step did not run).
        *(
            f"      wave-{k}: ${{{{ steps.cache.outputs.wave-{k} || steps.matrix.outputs.wave-{k} }}}}"
            for k in waves
        ),
        *(f"      {name}: ${{{{ steps.matrix.outputs.{name} }}}}" for name in RUN_OUTPUTS),
        "      cache-outcomes: ${{ steps.cache.outputs.cache-outcomes }}",
        "    steps:",
        "      - uses: actions/checkout@v5",
        *_python_step("      "),
        "      - id: matrix",
        f"        uses: {_uses(opts, 'compute-matrix')}",
        "        with:",
        f"          topology: {opts.topology}",
        f"          platform: {opts.platform}",
        "          amdgpu-families: ${{ inputs.amdgpu-families || vars.ROCKSHARD_AMDGPU_FAMILIES"
        f" || '{opts.default_families}' }}}}",
        f"          max-waves: {opts.max_waves}",
        "          store: ${{ inputs.store || vars.ROCKSHARD_STORE }}",
        "          untrusted-store: ${{ vars.ROCKSHARD_STORE_UNTRUSTED }}",
        "          store-role: ${{ vars.ROCKSHARD_STORE_ROLE }}",
        "          untrusted-store-role: ${{ vars.ROCKSHARD_STORE_UNTRUSTED_ROLE }}",
        "          store-region: ${{ vars.ROCKSHARD_STORE_REGION }}",
        "          endpoint-url: ${{ vars.ROCKSHARD_STORE_ENDPOINT_URL }}",
        *_oidc_step("      ", "steps.matrix.outputs"),
        "      - id: cache",
        "        name: Stage cache (reuse what earlier runs built)",
        f"        uses: {_uses(opts, 'stage-cache')}",
        *_credentials("        ", "steps.matrix.outputs"),
        "        with:",
        f"          topology: {opts.topology}",
        f"          platform: {opts.platform}",
        "          amdgpu-families: ${{ steps.matrix.outputs.families }}",
        f"          max-waves: {opts.max_waves}",
        "          store: ${{ steps.matrix.outputs.store }}",
        "          external-repo: ${{ steps.matrix.outputs.external-repo }}",
        "          cache-store: ${{ steps.matrix.outputs.trusted-store }}",
        "          endpoint-url: ${{ steps.matrix.outputs.store-endpoint-url }}",
        f"          cache: {CACHE_MODE}",
        "",
    ]
    for k in waves:
        lines.extend(_wave_job(k, opts))
    lines.extend(
        [
            "  assemble:",
            f"    needs: [{', '.join(['setup', *(f'wave-{k}' for k in waves)])}]",
            "    if: ${{ !cancelled() && !failure() }}",
            f"    runs-on: {runner}",
            f"    timeout-minutes: {opts.timeout_minutes}",
            "    env:",
            "      SOURCE_DATE_EPOCH: ${{ needs.setup.outputs.source-date-epoch }}",
            "    steps:",
            "      - uses: actions/checkout@v5",
            *_python_step("      "),
            *_oidc_step("      "),
            "      - name: Assemble the product, check the shards converge, keep the product",
            f"        uses: {_uses(opts, 'assemble-pipeline')}",
            *_credentials("        "),
            "        with:",
            "          amdgpu-families: ${{ needs.setup.outputs.families }}",
            f"          platform: {opts.platform}",
            *_store_inputs("          "),
            f"          topology: {opts.topology}",
        ]
    )
    lines.extend(["", *_report_job(opts, runner, waves)])
    return "\n".join(lines) + "\n"
