"""scripts/bench.py --quick at tiny sizes, so the benchmark cannot rot: every measurement runs end to
end against the real helper (and real Chromium when installed) and writes a complete results file.
Figures are not judged here (tests assert behaviour, never timings): only that each exists, has its
same-run baseline, and was checked against its target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from benchlib.results import Run  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.timeout(480)
def test_bench_quick_runs_every_measurement(tmp_path):
    only = ["index", "burst", "sort", "startup", "api", "idle", "scaling", "detect"] + (["overlay", "drop"] if CHROMIUM.exists() else [])
    out = tmp_path / "bench-results.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench.py"), "--quick", "--only", ",".join(only), "--files", "500",
         "--burst", "100", "--sort-files", "40", "--wrk-seconds", "1", "--idle-seconds", "1", "--iterations", "2", "--out", str(out),
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=460, cwd=REPO, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    run = Run.model_validate(json.loads(out.read_text(encoding="utf-8")))
    assert run.quick and run.skipped == {} and run.finished_at is not None
    ids = {f.id for f in run.figures}
    expected = {"first_index_s", "burst_files_per_s", "sort_vs_organize_40", "sort_startup_s", "api_rps_50", "api_p99_50", "api_rps_200", "api_p99_200", "api_p99_200_paced",
                "idle_cpu_pct", "rss_mb", "detect_p95_ms", "detect_paste_p95_ms", "api_list_20", "api_list_200",
                "scaling_list_warm", "scaling_levels", "scaling_detect", "scaling_list_cold", "scaling_list_unsummarised"}
    if CHROMIUM.exists():
        expected |= {"overlay_ms", "drop_to_done_ms"}
    assert ids == expected
    for f in run.figures:
        assert f.value is not None and f.value >= 0, f
        assert f.baseline is not None and f.baseline_title, f
        if f.target is not None:
            assert f.passed is not None and f.target_text, f
    assert {f.id for f in run.figures if f.target is not None} >= {"api_rps_200", "api_p99_200", "first_index_s", "sort_vs_organize_40", "sort_startup_s", "idle_cpu_pct", "rss_mb"}
    assert "measurement" in done.stdout and "baseline (same run)" in done.stdout  # the table
    assert not (tmp_path / "work").exists()  # the scratch folder is removed
