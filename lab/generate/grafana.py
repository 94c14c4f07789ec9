"""Grafana provisioning (datasource, dashboard provider) and the RAG overview dashboard.

The dashboard is built with Grafana's own `grafana-foundation-sdk` builders; threshold lines
are read from the alerts the spec's panels name, so a panel and its alert cannot disagree.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.builders import prometheus as prometheus_builder
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_model

from lab.generate._output import JSON_NOTE, GeneratedFile, to_yaml
from lab.spec.model import Comparison, Panel, Severity, Spec

DATASOURCE_PATH = "grafana/provisioning/datasources/prometheus.yml"
PROVIDER_PATH = "grafana/provisioning/dashboards/dashboards.yml"
DASHBOARDS_DIR = "grafana/dashboards"
PANEL_WIDTH = 12
PANEL_HEIGHT = 8
# Query refIds in panel order, as Grafana names them.
REF_IDS = "ABCDEFGH"
_COLORS = {Severity.CRITICAL: "red", Severity.WARNING: "orange", Severity.NONE: "blue"}


def datasource(spec: Spec) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "uid": spec.datasource_uid,
                "type": "prometheus",
                "access": "proxy",
                "url": spec.datasource_url,
                "isDefault": True,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": spec.scraping.scrape_interval},
            }
        ],
    }


def provider(spec: Spec) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "rag-observability-lab",
                "orgId": 1,
                "folder": "RAG Observability Lab",
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": spec.dashboards_path, "foldersFromFilesStructure": False},
            }
        ],
    }


def threshold_steps(panel: Panel, spec: Spec) -> list[dashboard_model.Threshold]:
    """Grafana threshold steps at the values of the alerts the panel names."""
    bounds = []
    for name in panel.threshold_alerts:
        threshold = spec.alert(name).threshold
        if threshold is None:
            raise ValueError(f"panel {panel.title!r}: alert {name} has no threshold")
        bounds.append((threshold.value, threshold.op, spec.alert(name).severity))
    bounds.sort(key=lambda b: b[0])
    if bounds and all(op is Comparison.BELOW for _v, op, _s in bounds):
        # Low is bad: red/orange below the bound, green from it up.
        return [
            dashboard_model.Threshold(value=None, color=_COLORS[bounds[0][2]]),
            *(dashboard_model.Threshold(value=v, color="green") for v, _op, _s in bounds),
        ]
    return [
        dashboard_model.Threshold(value=None, color="green"),
        *(dashboard_model.Threshold(value=v, color=_COLORS[s]) for v, _op, s in bounds),
    ]


def _panel(panel: Panel, spec: Spec, index: int) -> timeseries.Panel:
    ds = dashboard_model.DataSourceRef(type_val="prometheus", uid=spec.datasource_uid)
    builder = (
        timeseries.Panel()
        .id(panel.id)
        .title(panel.title)
        .description(panel.description)
        .datasource(ds)
        .unit(panel.unit)
        .grid_pos(
            dashboard_model.GridPos(
                h=PANEL_HEIGHT,
                w=PANEL_WIDTH,
                x=(index % 2) * PANEL_WIDTH,
                y=(index // 2) * PANEL_HEIGHT,
            )
        )
        .line_width(1)
        .fill_opacity(10)
        .legend(
            common_builder.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
        )
        .tooltip(common_builder.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
        .thresholds(
            dashboard_builder.ThresholdsConfig()
            .mode(dashboard_model.ThresholdsMode.ABSOLUTE)
            .steps(threshold_steps(panel, spec))
        )
    )
    if panel.threshold_alerts:
        builder = builder.thresholds_style(
            common_builder.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
        )
    if panel.stacked:
        builder = builder.stacking(
            common_builder.StackingConfig().mode(common.StackingMode.NORMAL)
        ).fill_opacity(60)
    if panel.min is not None:
        builder = builder.min(panel.min)
    if panel.max is not None:
        builder = builder.max(panel.max)
    if len(panel.queries) > len(REF_IDS):
        raise ValueError(f"panel {panel.title!r}: at most {len(REF_IDS)} queries")
    for ref, query in zip(REF_IDS, panel.queries, strict=False):
        target = (
            prometheus_builder.Dataquery()
            .ref_id(ref)
            .datasource(ds)
            .expr(query.expr)
            .legend_format(query.legend)
            .range()
        )
        if query.exemplar:
            target = target.exemplar(True)
        builder = builder.with_target(target)
    return builder


def dashboard_json(spec: Spec) -> dict[str, Any]:
    """The dashboard model as Grafana stores it."""
    board = spec.dashboard
    ids = [p.id for p in board.panels]
    if len(ids) != len(set(ids)):
        raise ValueError("panel ids must be unique and stable")
    builder = (
        dashboard_builder.Dashboard(board.title)
        .uid(board.uid)
        .description(
            f"{JSON_NOTE} Query latency, errors, cache, cost, SLO burn and resilience of the sample"
            " RAG app."
        )
        .tags(list(board.tags))
        .refresh(board.refresh)
        .time(board.time_from, "now")
        .timezone("browser")
        .readonly()
        .tooltip(dashboard_model.DashboardCursorSync.CROSSHAIR)
    )
    for index, panel in enumerate(board.panels):
        builder = builder.with_panel(_panel(panel, spec, index))
    encoded: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    # Grafana's own export writes these lists even when empty.
    for key in ("templating", "annotations"):
        if not encoded.get(key):
            encoded[key] = {"list": []}
    return encoded


def dashboard_text(spec: Spec) -> str:
    """The dashboard file's content: what Grafana provisions from disk or a ConfigMap."""
    return json.dumps(dashboard_json(spec), indent=2, sort_keys=False) + "\n"


def render(spec: Spec) -> list[GeneratedFile]:
    board = dashboard_text(spec)
    return [
        GeneratedFile(DATASOURCE_PATH, to_yaml(datasource(spec))),
        GeneratedFile(PROVIDER_PATH, to_yaml(provider(spec))),
        GeneratedFile(f"{DASHBOARDS_DIR}/{spec.dashboard.file}", board),
    ]
