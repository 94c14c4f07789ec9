"""The AlertmanagerConfig is alertmanager.yml's routing, translated, to the in-cluster sink."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.generate import alertmanager
from lab.generate.kubernetes import alerting
from lab.spec import SPEC
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


def test_inhibitions_are_the_compose_inhibitions(k8s: Renders) -> None:
    """Critical silences warning of the same alert, and of the same SLO."""
    translated = k8s.one("AlertmanagerConfig")["spec"]["inhibitRules"]
    back = [
        {
            "source_matchers": [
                f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in r["sourceMatch"]
            ],
            "target_matchers": [
                f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in r["targetMatch"]
            ],
            "equal": r["equal"],
        }
        for r in translated
    ]
    assert back == alertmanager.config(SPEC)["inhibit_rules"]


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


def _as_operator_would_assemble(k8s: Renders) -> dict[str, Any]:
    """alertmanager.yml as prometheus-operator builds it from the AlertmanagerConfig with the
    matcher strategy `None`: the cluster's root route (to a null receiver, as the chart's
    default), the lab's route nested under it with `continue: true`, receiver names prefixed
    with namespace/name/ (pkg/alertmanager/amcfg.go)."""
    config = k8s.one("AlertmanagerConfig")
    prefix = f"{SPEC.kubernetes.namespace}/{config['metadata']['name']}/"

    def prefixed(route: dict[str, Any]) -> dict[str, Any]:
        out = {**route, "receiver": prefix + route["receiver"]}
        if "routes" in out:
            out["routes"] = [prefixed(r) for r in out["routes"]]
        return out

    spec = config["spec"]
    lab_route = prefixed(_as_compose(spec["route"])) | {"continue": True}
    receivers = [
        {
            "name": prefix + r["name"],
            "webhook_configs": [
                {"url": h["url"], "send_resolved": h["sendResolved"]} for h in r["webhookConfigs"]
            ],
        }
        for r in spec["receivers"]
    ]
    return {
        "route": {"receiver": "null", "group_by": ["namespace"], "routes": [lab_route]},
        "receivers": [{"name": "null"}, *receivers],
    }


def test_amtool_routes_lab_alerts_to_the_lab_and_others_past_it(
    k8s: Renders, tmp_path: Path, tool: Tool
) -> None:
    """In the config the operator would assemble, Alertmanager itself routes the test alert to
    the sink, the lab's alerts by severity, and another team's alert to the cluster's default."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(_as_operator_would_assemble(k8s)))
    checked = tool("amtool", "check-config", str(config))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    prefix = f"{SPEC.kubernetes.namespace}/{alerting.CONFIG_NAME}/"
    synthetic = SPEC.routing.synthetic
    cases = [
        ({"alertname": synthetic.alertname, "severity": "warning"}, prefix + "alert-sink"),
        ({"alertname": "RagAppDown", "severity": "critical"}, prefix + "critical"),
        ({"alertname": "RetryStorm", "severity": "warning"}, prefix + "warning"),
        ({"alertname": "Watchdog", "severity": "none"}, prefix + "heartbeat"),
        ({"alertname": "KubePodCrashLooping", "severity": "warning"}, "null"),
        ({"alertname": "RagAppDownstream", "severity": "critical"}, "null"),
    ]
    for labels, receiver in cases:
        result = tool(
            "amtool", "config", "routes", "test", f"--config.file={config}",
            f"--verify.receivers={receiver}", *(f"{k}={v}" for k, v in labels.items()),
        )  # fmt: skip
        assert result.returncode == 0, (labels, result.stdout + result.stderr)
