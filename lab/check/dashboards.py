"""Check 2: Grafana shows p95 latency, error rate, cache hit rate and cost, with data.

Asks Grafana itself: it is healthy, its Prometheus datasource (found by type, or the one
the target names) passes Grafana's own health test, a dashboard found by search shows the
course's four key panels, recognised by what they query (p95 from
rag_query_duration_seconds_bucket, errors over requests, cache hits over cache requests,
rag_cost_usd_total) whatever their uid and titles, and their queries return data over the
dashboard's window through Grafana's query API, with template variables and Grafana's
built-in intervals resolved as Grafana resolves them (`lab.check.panels`). On the lab's
own stack every one of its panels must have data; on a learner's, the four key ones.

Where Grafana is not running, the key queries are still run against Prometheus directly
(the lab's panels on the lab's stack; the course's grafana_panels_spec.json when the
target names it), to show what the panels would say, and the check fails; only a run
without Grafana on purpose (`--without grafana`, or a target without one) turns that
into a skip.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lab.check import panels
from lab.check.evidence import Evidence, run_check
from lab.check.panels import KEY_QUERIES, Dashboard, Datasource
from lab.check.result import CheckFailed, CheckResult, Status
from lab.check.targeting import target_file, target_of
from lab.kit.clients.base import ServiceError, ServiceUnreachable
from lab.kit.clients.grafana import PanelQuery
from lab.kit.context import LabContext
from lab.kit.target import Target
from lab.spec.model import Spec
from lab.spec.rag import SPEC

NAME = "dashboards"
TITLE = "Grafana shows p95 latency, error rate, cache hit rate and cost, with data"
#: How many of Grafana's dashboards are read, at most, looking for the key panels.
MAX_DASHBOARDS = 100


def run(ctx: LabContext, spec: Spec = SPEC) -> CheckResult:
    target = target_of(ctx)
    return run_check(NAME, TITLE, lambda evidence: _check(ctx, target, spec, evidence))


def _check(ctx: LabContext, target: Target, spec: Spec, evidence: Evidence) -> Status:
    if not ctx.settings.check_grafana or target.grafana.url is None:
        why = (
            "left out on purpose (--without grafana / LAB_CHECK_GRAFANA=false)"
            if not ctx.settings.check_grafana
            else f"not part of this stack (grafana.url is empty in {target_file(target)})"
        )
        evidence.add(f"· Grafana {why}")
        _without_grafana(ctx, target, spec, evidence)
        evidence.add("· the panels' queries were proven against Prometheus; Grafana itself was not")
        return Status.SKIP
    grafana = ctx.grafana
    try:
        health = grafana.health()
    except ServiceUnreachable as down:
        # Show what the panels would say, then fail: a check must not pass without looking.
        evidence.add(f"· {down}; running the panel queries against Prometheus instead")
        _without_grafana(ctx, target, spec, evidence)
        raise CheckFailed(
            "Grafana is not running, so nobody can see these panels",
            fix="start it: `docker compose up -d grafana` (then `lab wait`); where no Grafana "
            "image can run, pass --without grafana to check the panel queries only"
            if target.own_stack
            else f"start your Grafana, or point grafana.url in {target_file(target)} at it "
            "(empty where your stack has none: the panel queries are then checked only)",
        ) from down
    if health.get("database") != "ok":
        raise CheckFailed(
            f"Grafana reports database {health.get('database')!r}",
            fix="`docker compose logs grafana`; removing the grafana-data volume resets it"
            if target.own_stack
            else "read Grafana's own log: its database (grafana.db) cannot be used",
        )
    evidence.add(f"✓ Grafana {health.get('version', '?')} healthy")

    known = [Datasource.from_api(item) for item in grafana.datasources()]
    prometheus = _datasource(known, target, spec)
    ok, message = grafana.datasource_health(prometheus.uid)
    if not ok:
        raise CheckFailed(
            f"datasource {prometheus.name!r} ({prometheus.uid}) health check failed: {message}",
            fix="check grafana/provisioning/datasources and that Grafana reaches "
            f"{spec.datasource_url} (both on the compose network)"
            if target.own_stack
            else "in Grafana, Connections → Data sources → your Prometheus → Save & test: its "
            "URL must be Prometheus as Grafana reaches it (a compose service name, not "
            "localhost, when both run in containers)",
        )
    evidence.add(f"✓ datasource {prometheus.name!r} ({prometheus.uid}) OK: {message}")

    if target.grafana.panels_file is not None:
        dashboard = _panels_file(target.grafana.panels_file, target, known, prometheus, ctx)
        where = f"the panels of {target.grafana.panels_file}"
    else:
        dashboard = _find_dashboard(ctx, target, spec, known, prometheus)
        where = f"dashboard {dashboard.title!r} ({dashboard.uid})"
    for note in dashboard.notes:
        evidence.add(f"· {note}")
    key = _key_panels(dashboard, where, target)
    evidence.add(
        f"✓ {where} has the {len(key)} key panels: "
        + ", ".join(f"{role} ({panel.title!r})" for role, panel in key.items()),
        dashboard_uid=dashboard.uid,
        key_panels={role: panel.title for role, panel in key.items()},
    )
    checked = dashboard.panels if target.own_stack else tuple(key.values())
    empty: list[str] = []
    for panel in checked:
        if not panel.queries:
            continue
        missing = [q.datasource.uid for q in panel.queries if q.datasource.type == panels.MISSING]
        if missing:
            raise CheckFailed(
                f"panel {panel.title!r} queries datasource {missing[0]!r}, which Grafana does "
                "not have",
                fix=f"edit the panel: set its datasource to {prometheus.name!r} "
                f"({prometheus.uid}), or use a ${{datasource}} variable",
            )
        queries = tuple(
            PanelQuery(q.ref_id, q.expr, q.datasource.uid, q.interval_ms, q.max_data_points)
            for q in panel.queries
        )
        outcomes = grafana.run_queries(
            queries, time_from=dashboard.time_from, time_to=dashboard.time_to
        )
        errors = [o.error for o in outcomes if o.error]
        if errors:
            raise CheckFailed(
                f"panel {panel.title!r}: query error {errors[0]}",
                fix="fix the panel's PromQL in lab/spec and run `lab generate`"
                if target.own_stack
                else f"open the panel in Grafana and fix its query (it ran as "
                f"`{panel.queries[0].expr}`)",
            )
        if not any(o.points for o in outcomes):
            empty.append(panel.title)
    _no_empty_panels(empty, len(checked), "through Grafana's query API", target, evidence)
    if not target.own_stack:
        others = len(dashboard.panels) - len(checked)
        if others:
            evidence.add(f"· {others} other panels of the dashboard were not required")
    return Status.PASS


def _datasource(known: list[Datasource], target: Target, spec: Spec) -> Datasource:
    """The target's datasource when it names one, else the Prometheus one (the default one,
    or the lab's own uid, when there are several)."""
    wanted = target.grafana.datasource_uid
    if wanted:
        named = next((d for d in known if wanted in (d.uid, d.name)), None)
        if named is None or named.type != "prometheus":
            raise CheckFailed(
                f"Grafana has no Prometheus datasource {wanted!r} "
                f"({len(known)} datasources: {[d.name for d in known]})",
                fix=f"set grafana.datasource_uid in {target_file(target)} to your Prometheus "
                "datasource's uid (Connections → Data sources, the uid in its URL), or remove "
                "it to use the one found by type",
            )
        return named
    candidates = [d for d in known if d.type == "prometheus"]
    if not candidates:
        raise CheckFailed(
            f"Grafana has no Prometheus datasource ({len(known)} datasources: "
            f"{[f'{d.name} ({d.type})' for d in known]})",
            fix="check grafana/provisioning/datasources (`lab generate --check`)"
            if target.own_stack
            else "add one: Connections → Data sources → Add → Prometheus, with your "
            "Prometheus's URL as Grafana reaches it",
        )
    candidates.sort(key=lambda d: (not d.is_default, d.uid != spec.datasource_uid, d.name))
    return candidates[0]


def _find_dashboard(
    ctx: LabContext,
    target: Target,
    spec: Spec,
    known: list[Datasource],
    prometheus: Datasource,
) -> Dashboard:
    """The dashboard that shows most of the key panels: the one the target names, else
    every dashboard search finds (the lab's own uid first among equals)."""
    grafana = ctx.grafana
    wanted = target.grafana.dashboard_uid
    uids = (
        [wanted]
        if wanted
        else [str(hit.get("uid")) for hit in grafana.search_dashboards() if hit.get("uid")]
    )
    if not uids:
        raise CheckFailed(
            "Grafana has no dashboards",
            fix="check the dashboard provider in grafana/provisioning/dashboards and "
            "`docker compose logs grafana | grep -i provisioning`"
            if target.own_stack
            else "import yours (Dashboards → New → Import, e.g. the course's "
            "grafana_panels_spec.json), or name that file as grafana.panels_file in "
            f"{target_file(target)}",
        )

    found: list[Dashboard] = []
    for uid in uids[:MAX_DASHBOARDS]:
        try:
            model = grafana.dashboard_model(uid)
        except ServiceError as exc:
            if wanted:
                raise CheckFailed(
                    f"dashboard {wanted!r} is not in Grafana ({exc})",
                    fix=f"set grafana.dashboard_uid in {target_file(target)} to the uid in "
                    "your dashboard's URL (/d/<uid>/...), or remove it to search",
                ) from exc
            continue
        found.append(
            panels.parse_dashboard(
                model, datasources=known, prometheus=prometheus, lookup=_label_values(ctx)
            )
        )
    if not found:
        raise CheckFailed(
            f"none of Grafana's {len(uids)} dashboards could be read",
            fix="give lab a user or token that may view them (grafana.user/password or "
            f"grafana.token in {target_file(target)})",
        )
    found.sort(key=lambda d: (-len(d.key_panels()), d.uid != spec.dashboard.uid, -len(d.panels)))
    return found[0]


def _key_panels(dashboard: Dashboard, where: str, target: Target) -> dict[str, panels.Panel]:
    key = dashboard.key_panels()
    missing = [k for k in KEY_QUERIES if k.role not in key]
    if missing:
        wanted = "; ".join(f"{k.role}: `{_spec_expr(k.lab_title)}`" for k in missing)
        raise CheckFailed(
            f"{where} lacks panels for {[k.role for k in missing]} (no panel queries them)",
            fix="run `lab generate` and restart Grafana so it reloads the dashboard"
            if target.own_stack
            else f"add a panel for each, querying what the course asks ({wanted})",
            missing_panels=[k.role for k in missing],
        )
    return key


def _label_values(ctx: LabContext) -> panels.LabelValues:
    """What a label_values() variable offers, asked of Prometheus (none when it cannot say)."""

    def lookup(label: str, metric: str | None) -> list[str]:
        try:
            return ctx.prometheus.label_values(label, metric)
        except ServiceError:
            return []

    return lookup


def _spec_expr(title: str) -> str:
    (panel,) = [p for p in SPEC.dashboard.panels if p.title == title]
    return panel.queries[0].expr


def _panels_file(
    path: Path, target: Target, known: list[Datasource], prometheus: Datasource, ctx: LabContext
) -> Dashboard:
    """The course's grafana_panels_spec.json ({"dashboard": {...}}, as its notebook writes
    it) or a dashboard exported from Grafana (the model itself); a relative path is read
    from beside the target file."""
    if not path.is_absolute() and target.source is not None:
        path = target.source.parent / path
    fix = f"point grafana.panels_file in {target_file(target)} at the JSON file the course's "
    fix += "notebook writes (grafana_panels_spec.json) or a dashboard exported from Grafana"
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckFailed(f"cannot read {path}: {exc}", fix=fix) from exc
    except ValueError as exc:
        raise CheckFailed(f"{path} is not JSON: {exc}", fix=fix) from exc
    model = body.get("dashboard", body) if isinstance(body, dict) else None
    if not isinstance(model, dict) or not isinstance(model.get("panels"), list):
        raise CheckFailed(f"{path} has no dashboard panels", fix=fix)

    return panels.parse_dashboard(
        model, datasources=known, prometheus=prometheus, lookup=_label_values(ctx)
    )


#: The datasource the queries are resolved against when Grafana is not there to say.
_NO_GRAFANA = Datasource("prometheus", "Prometheus", "prometheus")


def _without_grafana(ctx: LabContext, target: Target, spec: Spec, evidence: Evidence) -> None:
    """What the panels would show, from Prometheus itself: the lab's panels on the lab's
    stack, the course's panel file when the target names one, else the four key queries."""
    if target.grafana.panels_file is not None:
        dashboard = _panels_file(target.grafana.panels_file, target, [], _NO_GRAFANA, ctx)
        key = _key_panels(dashboard, f"the panels of {target.grafana.panels_file}", target)
        checked = [
            (p.title, [q.expr for q in p.queries], p.queries[0].step_seconds) for p in key.values()
        ]
        how = f"of {target.grafana.panels_file} against Prometheus directly"
    elif target.own_stack:
        checked = [(p.title, [q.expr for q in p.queries], 15.0) for p in spec.dashboard.panels]
        how = "against Prometheus directly"
    else:
        checked = [
            (p.title, [q.expr for q in p.queries], 15.0)
            for p in spec.dashboard.panels
            if p.title in spec.dashboard.key_panels
        ]
        how = "(the course's four key queries) against Prometheus directly"
    end = datetime.now(UTC)
    start = end - timedelta(seconds=panels.relative_seconds(spec.dashboard.time_from))
    empty = [
        title
        for title, exprs, step in checked
        if not any(
            series.points
            for expr in exprs
            for series in ctx.prometheus.query_range(expr, start=start, end=end, step_seconds=step)
        )
    ]
    _no_empty_panels(empty, len(checked), how, target, evidence)


def _no_empty_panels(
    empty: list[str], total: int, how: str, target: Target, evidence: Evidence
) -> None:
    if empty:
        raise CheckFailed(
            f"no data in the last 30 minutes for {len(empty)} of {total} panels: {empty} ({how})",
            fix="the panels need traffic: check `docker compose ps loadgen`, then that the "
            "app's metric names match the panel queries (`lab generate --check`)"
            if target.own_stack
            else "the panels need traffic: send your app some queries, then check that "
            "Prometheus scrapes it (check 1) and that its metric names are the course's",
            empty_panels=empty,
        )
    evidence.add(f"✓ all {total} panels return data {how}")
