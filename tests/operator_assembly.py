"""The alertmanager.yml prometheus-operator assembles from the lab's AlertmanagerConfig.

For the tests that run amtool or a real Alertmanager on it. Written from prometheus-operator
v0.93's pkg/alertmanager/amcfg.go (`ConfigBuilder.AddAlertmanagerConfigs`, `convertRoute`,
`convertReceiver`, `convertInhibitRule`, `makeNamespacedString`, the enforcers) and
kube-prometheus-stack 88.5.3's default `alertmanager.config` (values.yaml):

- the base is the Alertmanager's own configuration, here the chart's default: everything to
  a `null` receiver grouped by namespace, the chart's Watchdog to `null` too, and its
  critical-over-warning inhibition scoped by `equal: [namespace, alertname]`;
- each AlertmanagerConfig's route goes first among the root route's routes, with
  `continue: true`, so the cluster's own routes still see every alert;
- its receivers, and the receiver of each of its routes, are renamed
  `<namespace>/<name>/<receiver>`;
- its inhibit rules are appended to the base's; each CRD matcher becomes `name<op>"value"`;
- under the matcher strategy `None` (`noopEnforcer`) nothing else is added; under the
  default `OnNamespace`, `namespace="<its namespace>"` would join the route's matchers and
  both sides of each inhibit rule, which is why the lab's rules scope themselves.
"""

from __future__ import annotations

from typing import Any

from lab.generate.kubernetes import alerting

#: kube-prometheus-stack 88.5.3's default Alertmanager configuration, the parts that route
#: and inhibit (its `info` inhibitions and templates change nothing the tests look at).
CHART_DEFAULT_CONFIG: dict[str, Any] = {
    "route": {
        "receiver": "null",
        "group_by": ["namespace"],
        "routes": [{"receiver": "null", "matchers": ['alertname="Watchdog"']}],
    },
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity=~"warning|info"'],
            "equal": ["namespace", "alertname"],
        }
    ],
    "receivers": [{"name": "null"}],
}
ROUTE_KEYS = {**{new: old for old, new in alerting.ROUTE_KEYS.items()}, "continue": "continue"}


def matcher_text(matcher: dict[str, str]) -> str:
    """A CRD matcher as Alertmanager reads it (`Matcher.String`)."""
    if any(c in matcher["value"] for c in '"\\\n'):
        raise ValueError(f"{matcher}: the operator would escape this value")
    return f'{matcher["name"]}{matcher["matchType"]}"{matcher["value"]}"'


def receiver_prefix(config: dict[str, Any], namespace: str) -> str:
    return f"{namespace}/{config['metadata']['name']}/"


def _route(route: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {ROUTE_KEYS[k]: v for k, v in route.items() if k in ROUTE_KEYS}
    out["receiver"] = prefix + route["receiver"]
    if "matchers" in route:
        out["matchers"] = [matcher_text(m) for m in route["matchers"]]
    if "routes" in route:
        out["routes"] = [_route(r, prefix) for r in route["routes"]]
    return out


def assemble(config: dict[str, Any], namespace: str, strategy: str) -> dict[str, Any]:
    """The chart's default configuration with the AlertmanagerConfig `config` (applied in
    `namespace`) added, as the operator does under the matcher `strategy`."""
    if strategy != "None":
        raise ValueError(f"only the lab's matcher strategy (None) is modelled, not {strategy}")
    prefix = receiver_prefix(config, namespace)
    spec = config["spec"]
    base = CHART_DEFAULT_CONFIG
    lab_route = _route(spec["route"], prefix) | {"continue": True}
    inhibit_rules = [
        {
            "source_matchers": [matcher_text(m) for m in rule["sourceMatch"]],
            "target_matchers": [matcher_text(m) for m in rule["targetMatch"]],
            "equal": rule["equal"],
        }
        for rule in spec.get("inhibitRules", [])
    ]
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
        "route": {**base["route"], "routes": [lab_route, *base["route"]["routes"]]},
        "inhibit_rules": [*base["inhibit_rules"], *inhibit_rules],
        "receivers": [*base["receivers"], *receivers],
    }
