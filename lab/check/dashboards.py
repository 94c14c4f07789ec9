"""Check 2: Grafana shows p95 latency, error rate, cache hit rate and cost, with data.

Asks Grafana itself: it is healthy, its Prometheus datasource passes Grafana's own
health test, the dashboard is there by uid with the four key panels, and every panel's
queries return data over the last 30 minutes through Grafana's query API, which is
exactly what a person looking at the dashboard would see. Where Grafana is not running,
the panel queries are still run against Prometheus directly, to show what the panels
would say, and the check fails; only a lab run without Grafana on purpose
(`--without grafana`) turns that into a skip.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lab.check.evidence import Evidence, run_check
from lab.check.result import CheckFailed, CheckResult, Status
from lab.kit.clients.base import ServiceUnreachable
from lab.kit.context import LabContext
from lab.spec.model import Spec
from lab.spec.rag import SPEC

NAME = "dashboards"
TITLE = "Grafana shows p95 latency, error rate, cache hit rate and cost, with data"


def run(ctx: LabContext, spec: Spec = SPEC) -> CheckResult:
    return run_check(NAME, TITLE, lambda evidence: _check(ctx, spec, evidence))


def _check(ctx: LabContext, spec: Spec, evidence: Evidence) -> Status:
    grafana = ctx.grafana
    if not ctx.settings.check_grafana:
        evidence.add("· Grafana left out on purpose (--without grafana / LAB_CHECK_GRAFANA=false)")
        _panels_via_prometheus(ctx, spec, evidence)
        evidence.add("· the panels' queries were proven against Prometheus; Grafana itself was not")
        return Status.SKIP
    try:
        health = grafana.health()
    except ServiceUnreachable as down:
        # Show what the panels would say, then fail: a check must not pass without looking.
        evidence.add(f"· {down}; running the panel queries against Prometheus instead")
        _panels_via_prometheus(ctx, spec, evidence)
        raise CheckFailed(
            "Grafana is not running, so nobody can see these panels",
            fix="start it: `docker compose up -d grafana` (then `lab wait`); where no Grafana "
            "image can run, pass --without grafana to check the panel queries only",
        ) from down
    if health.get("database") != "ok":
        raise CheckFailed(
            f"Grafana reports database {health.get('database')!r}",
            fix="`docker compose logs grafana`; removing the grafana-data volume resets it",
        )
    evidence.add(f"✓ Grafana {health.get('version', '?')} healthy")

    ok, message = grafana.datasource_health(spec.datasource_uid)
    if not ok:
        raise CheckFailed(
            f"datasource {spec.datasource_uid!r} health check failed: {message}",
            fix="check grafana/provisioning/datasources and that Grafana reaches "
            f"{spec.datasource_url} (both on the compose network)",
        )
    evidence.add(f"✓ datasource {spec.datasource_uid} OK: {message}")

    uid = spec.dashboard.uid
    try:
        dashboard = grafana.dashboard(uid, default_datasource_uid=spec.datasource_uid)
    except Exception as exc:
        raise CheckFailed(
            f"dashboard {uid!r} is not in Grafana ({exc})",
            fix="check the dashboard provider in grafana/provisioning/dashboards and "
            "`docker compose logs grafana | grep -i provisioning`",
        ) from exc
    key_panels = spec.dashboard.key_panels
    missing = [title for title in key_panels if dashboard.panel(title) is None]
    if missing:
        raise CheckFailed(
            f"dashboard {uid!r} lacks the panels {missing}",
            fix="run `lab generate` and restart Grafana so it reloads the dashboard",
        )
    evidence.add(f"✓ dashboard {dashboard.title!r} ({uid}) has the {len(key_panels)} key panels")

    empty: list[str] = []
    for panel in dashboard.panels:
        if not panel.queries:
            continue
        outcomes = grafana.run_queries(panel.queries, time_from=dashboard.time_from or "now-30m")
        errors = [o.error for o in outcomes if o.error]
        if errors:
            raise CheckFailed(
                f"panel {panel.title!r}: query error {errors[0]}",
                fix="fix the panel's PromQL in lab/spec and run `lab generate`",
            )
        if not any(o.points for o in outcomes):
            empty.append(panel.title)
    _no_empty_panels(empty, len(dashboard.panels), "through Grafana's query API", evidence)
    return Status.PASS


def _panels_via_prometheus(ctx: LabContext, spec: Spec, evidence: Evidence) -> None:
    # A range query over the dashboard's window, like the panel would run.
    end = datetime.now(UTC)
    empty: list[str] = []
    for panel in spec.dashboard.panels:
        has_data = any(
            ctx.prometheus.query(query.expr, at=end - timedelta(minutes=minutes_ago))
            for query in panel.queries
            for minutes_ago in (0, 10, 20)
        )
        if not has_data:
            empty.append(panel.title)
    _no_empty_panels(empty, len(spec.dashboard.panels), "against Prometheus directly", evidence)


def _no_empty_panels(empty: list[str], total: int, how: str, evidence: Evidence) -> None:
    if empty:
        raise CheckFailed(
            f"no data in the last 30 minutes for {len(empty)} of {total} panels: {empty} ({how})",
            fix="the panels need traffic: check `docker compose ps loadgen`, then that the "
            "app's metric names match the panel queries (`lab generate --check`)",
            empty_panels=empty,
        )
    evidence.add(f"✓ all {total} panels return data {how}")
