"""The AlertmanagerConfig is alertmanager.yml's routing, translated, to the in-cluster sink."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.generate import alertmanager, kubernetes
from lab.generate.kubernetes import alerting, monitoring
from lab.spec import SPEC
from tests import operator_assembly
from tests.unit.lab.generate.conftest import Tool
from tests.unit.lab.generate.kubernetes.conftest import Renders


def _as_compose(route: dict[str, Any]) -> dict[str, Any]:
    """A CRD route back in alertmanager.yml's words (without the lab's top matcher)."""
    keys = {new: old for old, new in alerting.ROUTE_KEYS.items()}
    out: dict[str, Any] = {keys[k]: v for k, v in route.items() if k in keys}
    if "matchers" in route:
        out["matchers"] = [f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in route["matchers"]]
    if "routes" in route:
        out["routes"] = [_as_compose(r) for r in route["routes"]]
    return out


def test_routes_are_the_compose_routes(k8s: Renders) -> None:
    """Grouping, waits, the test alert's route and the severity routes, in the same order."""
    route = dict(k8s.one("AlertmanagerConfig")["spec"]["route"])
    route.pop("matchers")
    assert _as_compose(route) == alertmanager.config(SPEC)["route"]


def test_top_route_takes_exactly_the_lab_alerts(k8s: Renders) -> None:
    """Nested under the cluster's root route, it matches every alert the spec raises and the
    test alert, and no other alert of the cluster."""
    (matcher,) = k8s.one("AlertmanagerConfig")["spec"]["route"]["matchers"]
    assert (matcher["name"], matcher["matchType"]) == ("alertname", "=~")
    names = matcher["value"].split("|")
    assert set(names) == {a.name for a in SPEC.alerts} | {SPEC.routing.synthetic.alertname}
    assert all(name.isalnum() for name in names)


def test_inhibitions_are_the_compose_inhibitions_scoped_to_the_lab(k8s: Renders) -> None:
    """Critical silences warning of the same alert, and of the same SLO, as in compose; each
    side also matches the lab's alert names (last)."""
    spec = k8s.one("AlertmanagerConfig")["spec"]
    (scope,) = spec["route"]["matchers"]

    def back(matchers: list[dict[str, str]]) -> list[str]:
        assert matchers[-1] == scope
        return [f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in matchers[:-1]]

    translated = [
        {
            "source_matchers": back(r["sourceMatch"]),
            "target_matchers": back(r["targetMatch"]),
            "equal": r["equal"],
        }
        for r in spec["inhibitRules"]
    ]
    assert translated == alertmanager.config(SPEC)["inhibit_rules"]


def test_every_receiver_posts_to_the_alert_sink_service_by_its_cluster_name(
    k8s: Renders,
) -> None:
    """Alertmanager runs in the monitoring namespace: the URL names the sink's Service, its
    namespace and port, and the path of compose's sink URL."""
    receivers = k8s.one("AlertmanagerConfig")["spec"]["receivers"]
    assert [r["name"] for r in receivers] == [
        r["name"] for r in alertmanager.config(SPEC)["receivers"]
    ]
    service = k8s.one("Service", "alert-sink")
    namespace = k8s.one("Namespace")["metadata"]["name"]
    port = service["spec"]["ports"][0]["port"]
    expected = f"http://alert-sink.{namespace}.svc:{port}/webhook"
    assert SPEC.routing.sink_url.endswith(f":{port}/webhook")
    for receiver in receivers:
        assert receiver["webhookConfigs"] == [{"url": expected, "sendResolved": True}]


def test_a_channel_without_a_translation_is_refused_by_name() -> None:
    """Slack from `--with-slack` has no Kubernetes rendering: refused, naming the field."""
    with_slack = alertmanager.config(SPEC, alertmanager.Channels(slack=True))
    with pytest.raises(ValueError, match="slack_configs"):
        alerting.from_compose(with_slack, SPEC)


def test_a_matcher_that_cannot_be_parsed_is_refused() -> None:
    """A matcher outside `name<op>"value"` fails with the matcher in the message."""
    with pytest.raises(ValueError, match="severity critical"):
        alerting.matcher("severity critical")


def _assembled(k8s: Renders, tmp_path: Path, tool: Tool) -> Path:
    """The alertmanager.yml the operator would build (tests/operator_assembly.py), written
    out and accepted by `amtool check-config`."""
    strategy = k8s.files[monitoring.VALUES_PATH]["alertmanager"]["alertmanagerSpec"][
        "alertmanagerConfigMatcherStrategy"
    ]["type"]
    config = operator_assembly.assemble(
        k8s.one("AlertmanagerConfig"), SPEC.kubernetes.namespace, strategy
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    checked = tool("amtool", "check-config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return path


PREFIX = f"{SPEC.kubernetes.namespace}/{alerting.CONFIG_NAME}/"


def test_amtool_routes_lab_alerts_to_the_lab_and_others_past_it(
    k8s: Renders, tmp_path: Path, tool: Tool
) -> None:
    """In the config the operator would assemble, Alertmanager itself routes the test alert to
    the sink, the lab's alerts by severity, and another team's alert to the cluster's default."""
    config = _assembled(k8s, tmp_path, tool)
    synthetic = SPEC.routing.synthetic
    cases = [
        ({"alertname": synthetic.alertname, "severity": "warning"}, PREFIX + "alert-sink"),
        ({"alertname": "RagAppDown", "severity": "critical"}, PREFIX + "critical"),
        ({"alertname": "RetryStorm", "severity": "warning"}, PREFIX + "warning"),
        # The chart's Watchdog reaches the lab's heartbeat, then the chart's own route.
        ({"alertname": "Watchdog", "severity": "none"}, f"{PREFIX}heartbeat,null"),
        ({"alertname": "KubePodCrashLooping", "severity": "warning"}, "null"),
        ({"alertname": "RagAppDownstream", "severity": "critical"}, "null"),
        (OTHER_TEAM_WARNING, "null"),
    ]
    for labels, receiver in cases:
        result = tool(
            "amtool", "config", "routes", "test", f"--config.file={config}",
            f"--verify.receivers={receiver}", *(f"{k}={v}" for k, v in labels.items()),
        )  # fmt: skip
        assert result.returncode == 0, (labels, result.stdout + result.stderr)


# The chart's own NodeFilesystemSpaceFillingUp comes as a warning and as a critical.
OTHER_TEAM_CRITICAL = {
    "alertname": "NodeFilesystemSpaceFillingUp", "severity": "critical", "namespace": "monitoring",
}  # fmt: skip
OTHER_TEAM_WARNING = {
    "alertname": "NodeFilesystemSpaceFillingUp", "severity": "warning", "namespace": "other",
}  # fmt: skip


Labels = dict[str, str]


def _matching_sides(config: Path, tmp_path: Path, tool: Tool, labels: Labels) -> list[set[str]]:
    """For each inhibit rule of `config`, which of its sides `labels` match, as amtool reads
    the matchers: each side becomes a route (with `continue`) of a probe configuration, and
    `amtool config routes test` names the routes the labels take."""
    rules = yaml.safe_load(config.read_text())["inhibit_rules"]
    routes = [
        {"receiver": f"{i}-{side}", "matchers": rule[f"{side}_matchers"], "continue": True}
        for i, rule in enumerate(rules)
        for side in ("source", "target")
    ]
    probe = {
        "route": {"receiver": "none", "routes": routes},
        "receivers": [{"name": "none"}, *({"name": r["receiver"]} for r in routes)],
    }
    path = tmp_path / "inhibit-probe.yml"
    path.write_text(yaml.safe_dump(probe))
    result = tool(
        "amtool", "config", "routes", "test", f"--config.file={path}",
        *(f"{k}={v}" for k, v in labels.items()),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    taken = set(result.stdout.strip().split(","))
    sides = ("source", "target")
    return [{side for side in sides if f"{i}-{side}" in taken} for i in range(len(rules))]


def _inhibiting_rules(
    config: Path, tmp_path: Path, tool: Tool, source: Labels, target: Labels
) -> list[int]:
    """The inhibit rules by which a firing `source` mutes `target`, by Alertmanager's test:
    the source matches the rule's source side, the target its target side, and both carry
    the same value (or none) of each `equal` label."""
    rules = yaml.safe_load(config.read_text())["inhibit_rules"]
    as_source = _matching_sides(config, tmp_path, tool, source)
    as_target = _matching_sides(config, tmp_path, tool, target)
    return [
        i
        for i, rule in enumerate(rules)
        if "source" in as_source[i]
        and "target" in as_target[i]
        and all(source.get(label) == target.get(label) for label in rule["equal"])
    ]


def test_another_teams_warning_is_muted_by_no_lab_rule_while_a_critical_fires(
    k8s: Renders, tmp_path: Path, tool: Tool
) -> None:
    """With the matcher strategy None the operator adds no namespace matcher to the lab's
    inhibit rules: a critical NodeFilesystemSpaceFillingUp in one namespace must not mute the
    warning of the same name in another through them (only the chart's own rule could, and
    it asks for the same namespace), nor may a lab critical mute it."""
    config = _assembled(k8s, tmp_path, tool)
    chart_rules = len(operator_assembly.CHART_DEFAULT_CONFIG["inhibit_rules"])
    lab_critical = {"alertname": "RagAppDown", "severity": "critical"}
    for source in (OTHER_TEAM_CRITICAL, lab_critical):
        assert _inhibiting_rules(config, tmp_path, tool, source, OTHER_TEAM_WARNING) == []
    # The chart's rule still mutes the warning in the critical's own namespace: the probe
    # can see an inhibition, and the lab's rules are not among those that cause it.
    same_namespace = OTHER_TEAM_WARNING | {"namespace": OTHER_TEAM_CRITICAL["namespace"]}
    assert _inhibiting_rules(config, tmp_path, tool, OTHER_TEAM_CRITICAL, same_namespace) == [
        i for i in range(chart_rules)
    ]


def test_the_lab_inhibitions_still_mute_the_lab_warnings(
    k8s: Renders, tmp_path: Path, tool: Tool
) -> None:
    """Scoped to the lab's alert names, each compose inhibition still works on the lab's own
    alerts: a paging burn-rate alert mutes the SLO ticket, a critical its same-named warning."""
    config = _assembled(k8s, tmp_path, tool)
    chart_rules = len(operator_assembly.CHART_DEFAULT_CONFIG["inhibit_rules"])
    slo = {"slo": SPEC.slo.name}
    page = {"alertname": "RagErrorBudgetBurnFast", "severity": "critical", **slo}
    ticket = {"alertname": "RagErrorBudgetBurnTicket", "severity": "warning", **slo}
    assert _inhibiting_rules(config, tmp_path, tool, page, ticket) == [chart_rules + 1]
    critical = {"alertname": "HighP95Latency", "severity": "critical"}
    warning = {"alertname": "HighP95Latency", "severity": "warning"}
    # The chart's rule (equal namespace and alertname, both without a namespace) also does.
    assert _inhibiting_rules(config, tmp_path, tool, critical, warning) == [0, chart_rules]
    # Another team's alert carrying the lab's SLO label is out of the lab's reach.
    foreign = {"alertname": "CheckoutErrorBudgetBurn", "severity": "warning", **slo}
    assert _inhibiting_rules(config, tmp_path, tool, page, foreign) == []


def test_inhibit_rules_match_only_the_lab_alerts(k8s: Renders) -> None:
    """Both sides of every inhibit rule name the lab's alerts, as the top route does."""
    spec = k8s.one("AlertmanagerConfig")["spec"]
    (scope,) = spec["route"]["matchers"]
    for rule in spec["inhibitRules"]:
        assert scope in rule["sourceMatch"]
        assert scope in rule["targetMatch"]


def test_no_render_uses_yaml_anchors() -> None:
    """A matcher repeated as one object would be dumped as `&id001`/`*id001`: valid YAML, but
    unreadable, and a trap for whoever patches one occurrence with kustomize."""
    for generated in kubernetes.render(SPEC):
        assert not re.search(r"[&*]id\d{3}\b", generated.content), generated.path
