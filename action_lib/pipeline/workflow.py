"""The sharded pipeline workflows, generated so the wave jobs stay identical. Pure.

The workflow is static: it depends on the platform and the number of wave jobs only, never on the
topology's stages or artifacts, which reach it at run time through the setup job's matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

from action_lib.pipeline.config import DEFAULT_RUNNERS

REPORT_VARIABLE = "ROCKSHARD_RUN_REPORT"  # a repository variable; "false" skips the report job


@dataclass(frozen=True)
class WorkflowOptions:
    """What a generated workflow may vary."""

    platform: str
    max_waves: int = 6
    default_families: str = "presubmit"
    topology: str = "BUILD_TOPOLOGY.toml"
    dialect: str = "rockshard"


def _install_step(indent: str) -> list[str]:
    # Under act (or on a prepared runner) ROCKSHARD_PYTHON names an interpreter that already has
    # rockshard's dependencies; elsewhere a virtualenv is made once per job.
    return [
        f"{indent}- name: Install rockshard",
        f"{indent}  shell: bash",
        f"{indent}  run: |",
        f'{indent}    if [ -z "${{ROCKSHARD_PYTHON:-}}" ]; then',
        f'{indent}      python3 -m venv "$RUNNER_TEMP/rockshard-venv" || python -m venv "$RUNNER_TEMP/rockshard-venv"',
        f'{indent}      py="$RUNNER_TEMP/rockshard-venv/bin/python"',
        f'{indent}      [ -x "$py" ] || py="$RUNNER_TEMP/rockshard-venv/Scripts/python.exe"',
        f'{indent}      "$py" -m pip install --quiet "$GITHUB_WORKSPACE" cmake ninja',
        f'{indent}      echo "ROCKSHARD_PYTHON=$py" >> "$GITHUB_ENV"',
        f'{indent}      echo "$(dirname "$py")" >> "$GITHUB_PATH"',
        f"{indent}    fi",
    ]


def _wave_job(k: int, opts: WorkflowOptions) -> list[str]:
    needs = ", ".join(["setup", *(f"wave-{i}" for i in range(k))])
    out = f"needs.setup.outputs.wave-{k}"
    lines = [
        f"  wave-{k}:",
        f'    name: "wave {k}: ${{{{ matrix.stage }}}} ${{{{ matrix.family }}}}"',
        f"    needs: [{needs}]",
        f"    if: ${{{{ !cancelled() && !failure() && {out} != '[]' }}}}",
        "    strategy:",
        "      fail-fast: false",
        "      matrix:",
        f"        include: ${{{{ fromJSON({out}) }}}}",
        "    runs-on: ${{ matrix.runs-on }}",
        "    timeout-minutes: ${{ matrix.timeout-minutes }}",
        "    steps:",
        "      - uses: actions/checkout@v5",
        "        with:",
        "          sparse-checkout: ${{ matrix.sparse-checkout }}",
        *_install_step("      "),
        # Sources and inbound artifacts are separate steps so that a run report can tell
        # their times apart (GitHub's API times top-level steps only).
        "      - name: Sources",
        "        shell: bash",
        "        run: >-",
        '          "$ROCKSHARD_PYTHON" -m action_lib sources fetch --stage "${{ matrix.stage }}"',
        f"          --topology {opts.topology} --platform {opts.platform} --depth 1 --no-sparse",
        "      - id: setup",
        "        name: Fetch inbound artifacts",
        "        uses: ./actions/setup-stage",
        "        with:",
        "          stage: ${{ matrix.stage }}",
        "          amdgpu-family: ${{ matrix.family }}",
        f"          platform: {opts.platform}",
        "          store: ${{ env.ROCKSHARD_STORE }}",
        f"          topology: {opts.topology}",
        f"          dialect: {opts.dialect}",
        '          fetch-sources: "false"',
        "      - name: Configure",
        "        shell: bash",
        "        run: |",
        '          mapfile -t args < "${{ steps.setup.outputs.cmake-args-file }}"',
        '          cmake -S . -B "${{ steps.setup.outputs.build-dir }}" -G Ninja "${args[@]}"',
        "      - name: Build stage-${{ matrix.stage }}",
        "        shell: bash",
        '        run: cmake --build "${{ steps.setup.outputs.build-dir }}" --target "stage-${{ matrix.stage }}"',
        "      - name: Push stage artifacts",
        "        uses: ./actions/push-stage-artifacts",
        "        with:",
        "          stage: ${{ matrix.stage }}",
        "          amdgpu-family: ${{ matrix.family }}",
        f"          platform: {opts.platform}",
        "          store: ${{ env.ROCKSHARD_STORE }}",
        f"          topology: {opts.topology}",
        "          build-dir: ${{ steps.setup.outputs.build-dir }}",
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
        *_install_step("      "),
        "      - name: Run report",
        "        continue-on-error: true",
        "        shell: bash",
        "        env:",
        "          GITHUB_TOKEN: ${{ github.token }}",
        "        run: >-",
        '          "$ROCKSHARD_PYTHON" -m action_lib report --github-run --summary',
        f"          --topology {opts.topology} --platform {opts.platform}",
        '          --html "$RUNNER_TEMP/rockshard-report.html"',
        "      - name: Upload the run report",
        "        if: ${{ always() && !env.ACT }}",
        "        continue-on-error: true",
        "        uses: actions/upload-artifact@v6",
        "        with:",
        "          name: rockshard-report-${{ github.run_attempt }}",
        "          path: ${{ runner.temp }}/rockshard-report.html",
        "          if-no-files-found: ignore",
    ]


def generate_workflow(opts: WorkflowOptions) -> str:
    """The workflow YAML for ``opts.platform``, byte-stable for the same options."""
    runner = DEFAULT_RUNNERS[opts.platform]
    waves = range(opts.max_waves)
    title = "Linux" if opts.platform == "linux" else "Windows"
    lines = [
        f"# Generated by `rockshard workflow --platform {opts.platform}`: do not edit.",
        "# Regenerate with `rockshard workflow --platform "
        f"{opts.platform} --output .github/workflows/rockshard-{opts.platform}.yml`.",
        f"name: rockshard {title} pipeline",
        "",
        "on:",
        "  workflow_dispatch:",
        "    inputs:",
        "      amdgpu-families:",
        "        description: GPU families (comma separated) or a CI tier (presubmit, postsubmit, nightly)",
        f"        default: {opts.default_families}",
        "      store:",
        "        description: Artifact store, s3://bucket/prefix; empty for the local store",
        '        default: ""',
        "  pull_request:",
        "  push:",
        "    branches: [main]",
        "",
        "permissions:",
        "  contents: read",
        "  pull-requests: read",
        "  actions: read  # the run report reads this run's jobs",
        "",
        "env:",
        "  ROCKSHARD_STORE: ${{ inputs.store || vars.ROCKSHARD_STORE || '' }}",
        "  AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}",
        "  AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}",
        "",
        "jobs:",
        "  setup:",
        f"    runs-on: {runner}",
        "    outputs:",
        *(f"      wave-{k}: ${{{{ steps.matrix.outputs.wave-{k} }}}}" for k in waves),
        "      waves: ${{ steps.matrix.outputs.waves }}",
        "      affected-stages: ${{ steps.matrix.outputs.affected-stages }}",
        "      families: ${{ steps.matrix.outputs.families }}",
        "    steps:",
        "      - uses: actions/checkout@v5",
        *_install_step("      "),
        "      - id: matrix",
        "        uses: ./actions/compute-matrix",
        "        with:",
        f"          topology: {opts.topology}",
        f"          platform: {opts.platform}",
        f"          amdgpu-families: ${{{{ inputs.amdgpu-families || '{opts.default_families}' }}}}",
        f"          max-waves: {opts.max_waves}",
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
            "    steps:",
            "      - uses: actions/checkout@v5",
            *_install_step("      "),
            "      - name: Assemble the product and check the shards converge",
            "        shell: bash",
            "        run: >-",
            '          "$ROCKSHARD_PYTHON" -m action_lib pipeline assemble --gha-output',
            f"          --topology {opts.topology} --platform {opts.platform}",
            '          --amdgpu-families "${{ needs.setup.outputs.families }}"',
            '          --store "$ROCKSHARD_STORE"',
            '          --output-dir "${ROCKSHARD_PRODUCT_DIR:-$RUNNER_TEMP/product}"',
        ]
    )
    lines.extend(["", *_report_job(opts, runner, waves)])
    return "\n".join(lines) + "\n"
