"""Check 5: a baseline recorded for the before/after comparison of the resilience work.

What a baseline is and how it is measured lives in `lab.baseline.model`; this check measures
one over `LAB_BASELINE_WINDOW` and shows it as evidence.
"""

from __future__ import annotations

from lab.baseline.model import (
    app_job,
    describe_error_rate,
    describe_target_claim,
    error_rate_verdict,
    measure,
)
from lab.check.evidence import Evidence, run_check
from lab.check.result import CheckFailed, CheckResult, Status
from lab.kit.context import LabContext
from lab.kit.formatting import figure, milliseconds
from lab.spec.rag import TARGET_ERROR_RATE_AFTER

NAME = "baseline"
TITLE = "Baseline recorded for the before/after comparison"


def run(ctx: LabContext) -> CheckResult:
    return run_check(NAME, TITLE, lambda evidence: _check(ctx, evidence))


def _check(ctx: LabContext, evidence: Evidence) -> Status:
    window = ctx.settings.baseline_window
    job = app_job(ctx.prometheus, ctx.target.scrape_job)
    baseline = measure(ctx.prometheus, window, job=job)
    # The lab's own stack has one job, its own: naming it there says nothing.
    of_job = f" of job {job}" if job is not None and not ctx.target.own_stack else ""
    if not baseline.requests:
        raise CheckFailed(
            f"no query traffic{of_job} in the last {window}",
            fix="the baseline needs traffic: is loadgen running? `docker compose ps loadgen`"
            if ctx.target.own_stack
            else "the baseline needs traffic: send your app queries (your load test), then "
            "run the check again",
        )
    evidence.data["baseline"] = baseline.to_json()
    if of_job:
        evidence.add(f"· measured on the series{of_job}")
    evidence.add(
        f"· error rate {describe_error_rate(baseline)}: {error_rate_verdict(baseline)}; "
        f"target after M2.4: < {TARGET_ERROR_RATE_AFTER} %"
    )
    evidence.add(
        "· latency p50 {} / p95 {} / p99 {}".format(
            *(
                milliseconds(v)
                for v in (
                    baseline.p50_latency_seconds,
                    baseline.p95_latency_seconds,
                    baseline.p99_latency_seconds,
                )
            )
        )
    )
    evidence.add(
        f"· cache hit rate {figure(baseline.cache_hit_rate_percent, '{:.1f} %')}, "
        f"cost {figure(baseline.cost_per_query_usd, '${:.5f}')} per query "
        f"({figure(baseline.cost_per_hour_usd, '${:.3f}')} per hour), "
        f"{figure(baseline.requests_per_second, '{:.2f}')} req/s"
    )
    if baseline.absent_metrics:
        evidence.add(
            f"· absent from the app (not measured, not 0): {', '.join(baseline.absent_metrics)}"
        )
    for note in baseline.warnings:
        evidence.add(f"⚠ {note}")
    # A young lab passes (its figures are real, over the span there is), marked provisional:
    # green minutes after `up` must not read as a baseline fit to compare M2.4 against.
    evidence.data["provisional"] = bool(baseline.warnings)
    if baseline.warnings:
        evidence.add(
            f"⚠ provisional: {describe_target_claim(baseline)}; run `lab check` or "
            "`lab baseline` again once the warnings above are gone"
        )
    return Status.PASS
