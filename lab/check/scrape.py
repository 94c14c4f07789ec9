"""Check 1: Prometheus scrapes the app, recently and often enough.

Proves the chain end to end: the app's /metrics parses as Prometheus exposition and
carries the rag_* families the key panels and the course's alerts query (derived from
lab/spec), Prometheus has every replica of the app as an UP target (it discovers them by
DNS: one with `docker compose up -d`, three with `--scale app=3`), scraped each recently
and often enough (`max_scrape_age_seconds`, `max_scrape_interval_seconds` in
LabSettings), and no replica has gone without a replacement (RagAppDown's own condition:
a replica killed or stopped leaves discovery at once, so it is no longer a target to find
DOWN).

Two guards catch what breaks the numbers without breaking the scrape: the cardinality
guard (no rag_* family with more than `MAX_SERIES_PER_FAMILY` series: a label with
unbounded values grows past it within minutes) and the one-job guard (the app's series
arrive through one scrape job only: a second job doubles every `sum()` over the app).

The job is the target's (`scrape_job`, `--job`, `LAB_APP_JOB`), or else the one job that
exports `rag_requests_total`; the replica and one-job checks are built from it and from
that counter, which every course app has (not from the lab's own `rag_build_info`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from lab.check.evidence import Evidence, run_check
from lab.check.result import CheckFailed, CheckResult
from lab.kit.context import LabContext
from lab.spec.model import duration_seconds
from lab.spec.rag import COURSE_ALERTS, RAG_APP_DOWN, REPLICA_MEMORY, SCRAPING, SPEC

NAME = "scrape"
TITLE = "Prometheus scrapes the app"


def _families(exprs: list[str]) -> frozenset[str]:
    """The metric families `exprs` query, named as the parser reports them (counters
    without `_total`, histograms without `_bucket`)."""
    names = {name for expr in exprs for name in re.findall(r"\brag_[a-z0-9_]+\b", expr)}
    return frozenset(re.sub(r"_(total|bucket|sum|count)$", "", name) for name in names)


# The families the course's key panels and alert rules query.
_KEY_PANELS = [p for p in SPEC.dashboard.panels if p.title in SPEC.dashboard.key_panels]
REQUIRED_METRIC_FAMILIES = _families(
    [query.expr for panel in _KEY_PANELS for query in panel.queries]
    + [alert.expr for alert in COURSE_ALERTS]
)


#: The counter every course app exports: which jobs carry it is which jobs scrape the app.
APP_COUNTER = "rag_requests_total"


#: Most series one rag_* family may have: the largest healthy family, the stage-latency
#: histogram, has 3 stages x 19 series; a per-user or per-request label passes it fast.
MAX_SERIES_PER_FAMILY = 100


def run(ctx: LabContext) -> CheckResult:
    return run_check(NAME, TITLE, lambda evidence: _check(ctx, evidence))


def _prometheus_file(ctx: LabContext) -> str:
    """The learner's Prometheus configuration as Prometheus names it, or the lab's file."""
    if ctx.target.own_stack:
        return "prometheus/prometheus.yml"
    return ctx.prometheus.config_file() or "your prometheus.yml"


def _job(ctx: LabContext) -> str:
    """The target's job, or the one job Prometheus has exporting the app's counter."""
    if ctx.target.scrape_job is not None:
        return ctx.target.scrape_job
    jobs = sorted(
        s.labels.get("job", "") for s in ctx.prometheus.query(f"count by (job) ({APP_COUNTER})")
    )
    if len(jobs) == 1:
        return jobs[0]
    if not jobs:
        raise CheckFailed(
            f"no Prometheus job exports {APP_COUNTER}: Prometheus does not scrape the app",
            fix=f"add a scrape_config for the app to {_prometheus_file(ctx)} and reload "
            "Prometheus; or name its job: scrape_job in the target file (or --job)",
        )
    raise CheckFailed(
        f"{len(jobs)} jobs export {APP_COUNTER} ({', '.join(jobs)}): every sum() over the "
        "app counts it more than once",
        fix=f"scrape the app from one job in {_prometheus_file(ctx)}; or, if the others are "
        "not this app, name its job: scrape_job in the target file (or --job)",
        jobs=jobs,
    )


def _check(ctx: LabContext, evidence: Evidence) -> None:
    settings = ctx.settings
    target = ctx.target
    text = ctx.app.metrics_text()
    try:
        parsed = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise CheckFailed(
            f"{target.app_url}/metrics is not valid Prometheus exposition: {exc}",
            fix="serve /metrics with prometheus_client's generate_latest (or choose_encoder)",
        ) from exc
    families = {family.name for family in parsed}
    missing = sorted(REQUIRED_METRIC_FAMILIES - families)
    if missing:
        raise CheckFailed(
            f"/metrics lacks {', '.join(missing)}",
            fix="instrument the app with these metrics; the dashboards and alerts query them",
            missing_families=missing,
        )
    evidence.add(
        f"✓ {target.app_url}/metrics parses: {len(families)} families, "
        f"all {len(REQUIRED_METRIC_FAMILIES)} required rag_* present",
        metric_families=len(families),
    )
    _cardinality_guard(parsed, len(text.encode()), evidence)

    job = _job(ctx)
    targets = [t for t in ctx.prometheus.targets() if t.job == job]
    if not targets:
        jobs = sorted({t.job for t in ctx.prometheus.targets()})
        raise CheckFailed(
            f"Prometheus has no active target with job={job!r} (its jobs: "
            f"{', '.join(jobs) or 'none'})",
            fix=f"add a scrape_config with job_name {job!r} targeting the app to "
            f"{_prometheus_file(ctx)} and reload Prometheus"
            + (
                f"; or, if the app's job is another, set scrape_job in {target.source}"
                if target.source
                else ""
            ),
            jobs=jobs,
        )
    down = [t for t in targets if not t.is_up]
    if down:
        named = "; ".join(
            f"{t.instance} is {t.health.upper()}: {t.last_error or 'no error recorded yet'}"
            for t in down
        )
        raise CheckFailed(
            f"{len(down)} of {len(targets)} {job} replica(s) not UP: {named}",
            fix="check that Prometheus can reach the app: `docker compose ps app`, "
            f"and the target's lastError at {target.prometheus_url}/targets",
            replicas_discovered=len(targets),
            replicas_down=[t.instance for t in down],
        )
    current = {t.instance for t in targets}
    gone = sorted(
        instance
        for sample in ctx.prometheus.query(_down_query(job))
        if (instance := sample.labels.get("instance")) and instance not in current
    )
    if gone:
        raise CheckFailed(
            f"{len(gone)} {job} replica(s) gone without a replacement: "
            f"{', '.join(gone)} (scraped within {REPLICA_MEMORY}, no longer discovered, and "
            f"fewer replicas run now; {len(targets)} UP)",
            fix="start it again: `docker compose up -d --scale app=N` with the number you "
            f"want; after a deliberate scale-down this clears within {REPLICA_MEMORY}",
            replicas_discovered=len(targets),
            replicas_gone=gone,
        )
    evidence.add(
        f"✓ {len(targets)} of {len(targets)} {job} replica(s) UP"
        + (" (discovered by DNS)" if target.own_stack else "")
        + ", none gone",
        job=job,
        replicas_discovered=len(targets),
        replicas_up=len(targets),
    )
    now = datetime.now(UTC)
    max_interval = 0.0
    for scraped in targets:
        if scraped.last_scrape is None:
            raise CheckFailed(
                f"target {scraped.scrape_url} has never been scraped",
                fix="wait one scrape interval (`lab wait`) and run the check again",
            )
        age = (now - scraped.last_scrape).total_seconds()
        if age >= settings.max_scrape_age_seconds:
            raise CheckFailed(
                f"target {scraped.scrape_url} was last scraped {age:.0f}s ago "
                f"(limit {settings.max_scrape_age_seconds:.0f}s)",
                fix="Prometheus has stopped scraping: check its log (`docker compose logs "
                "prometheus`)",
                last_scrape_age_seconds=age,
            )
        interval = duration_seconds(scraped.scrape_interval or "0s")
        max_interval = max(max_interval, interval)
        if scraped.scrape_interval and interval > settings.max_scrape_interval_seconds:
            raise CheckFailed(
                f"target {scraped.scrape_url} is scraped every {scraped.scrape_interval}",
                fix=f"set scrape_interval to {SPEC.scraping.app_scrape_interval} for the "
                f"{job!r} job in {_prometheus_file(ctx)}"
                + (" (`lab generate` does)" if target.own_stack else ""),
                scrape_interval_seconds=interval,
            )
        evidence.add(
            f"✓ target {scraped.scrape_url} UP, last scrape {age:.1f}s ago, "
            f"every {scraped.scrape_interval or 'default interval'}",
            last_scrape_age_seconds=round(age, 3),
            scrape_interval_seconds=interval,
        )
    _one_job_guard(ctx, evidence, max_interval)


def _down_query(job: str) -> str:
    """RagAppDown's condition for `job`: a replica down, or gone without a replacement."""
    return RAG_APP_DOWN.expr.replace(f'job="{SCRAPING.app_job}"', f"job={json.dumps(job)}")


def _cardinality_guard(parsed: list[Metric], size_bytes: int, evidence: Evidence) -> None:
    series: Counter[str] = Counter()
    for family in parsed:
        if family.name.startswith("rag_"):
            # A family the parser could not group (no HELP line) comes sample by sample.
            series[family.name.removesuffix("_total")] += len(family.samples)
    name, most = max(series.items(), key=lambda item: item[1], default=("", 0))
    if most > MAX_SERIES_PER_FAMILY:
        raise CheckFailed(
            f"{name} has {most} series in /metrics (limit {MAX_SERIES_PER_FAMILY}; "
            f"/metrics is {size_bytes / 1024:.0f} KiB): a label with unbounded values",
            fix=f"find the label whose values keep changing (`curl -s <app>/metrics | grep "
            f"^{name}`) and remove it: labels take values from a small fixed set",
            series=most,
            family=name,
        )
    evidence.add(
        f"✓ cardinality: at most {most} series per rag_* family ({name}; limit "
        f"{MAX_SERIES_PER_FAMILY}), /metrics {size_bytes / 1024:.0f} KiB",
        max_series_per_family=most,
    )


def _one_job_guard(ctx: LabContext, evidence: Evidence, interval: float) -> None:
    # Scraped within two intervals: a job a reload removed leaves its last sample behind
    # for Prometheus's 5-minute lookback.
    window = 2 * (interval or ctx.settings.max_scrape_interval_seconds)
    recent = f"timestamp({APP_COUNTER}) > time() - {window:g}"
    jobs = sorted(
        sample.labels.get("job", "")
        for sample in ctx.prometheus.query(f"count by (job) ({recent})")
    )
    if len(jobs) > 1:
        raise CheckFailed(
            f"the app's series arrive through {len(jobs)} scrape jobs ({', '.join(jobs)}): "
            "every sum() over the app counts it more than once",
            fix=f"scrape the app from one job in {_prometheus_file(ctx)}: find the others at "
            f"{ctx.target.prometheus_url}/targets and remove them",
            jobs=jobs,
        )
    evidence.add(f"✓ one scrape job collects the app's series ({', '.join(jobs) or 'none yet'})")
