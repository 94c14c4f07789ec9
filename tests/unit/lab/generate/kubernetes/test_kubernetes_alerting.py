"""The AlertmanagerConfig is alertmanager.yml's routing, translated, to the in-cluster sink."""

from __future__ import annotations

from typing import Any

import pytest

from lab.generate import alertmanager
from lab.generate.kubernetes import alerting
from lab.spec import SPEC
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
