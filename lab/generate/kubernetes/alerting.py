"""alertmanager/kubernetes/: the routes and receivers of alertmanager.yml as an AlertmanagerConfig.

Translated from the very mapping `alertmanager/alertmanager.yml` is written from, so the
two cannot disagree. What the CRD cannot say, or says differently:
- `global` (resolve_timeout) belongs to the Alertmanager itself, not to one config;
- the operator nests the config's route under the cluster's root route, with
  `continue: true`, and the top route matches the lab's own alert names, so only the lab's
  alerts reach its receivers (see the chart values' matcher strategy);
- the operator prefixes every receiver name with `<namespace>/<config name>/`, so the
  sink records `rag-lab/rag-observability-lab/alert-sink` where compose says `alert-sink`
  (`lab.kit.receivers` reads both as one);
- under matcher strategy `None` the operator adds no namespace matcher to the inhibit
  rules either (pkg/alertmanager/amcfg.go, `noopEnforcer`), so they would apply to every
  alert of the Alertmanager: each rule's source and target also match the lab's alert
  names, so a critical alert of another team never mutes anyone's warning through them;
- the webhook reaches the alert sink by its cluster DNS name, in the lab's namespace;
- Slack and email (`lab generate --with-slack/--with-email`) read secrets from files in
  compose; here they would be Secret references, which the lab does not render.
"""

from __future__ import annotations

import re
from typing import Any

from lab.generate import alertmanager
from lab.generate._output import GeneratedFile
from lab.generate.kubernetes._common import (
    READ_AGAINST,
    kustomization,
    manifest,
    metadata,
    resource_files,
    sink_endpoint,
)
from lab.spec.model import Spec

DIRECTORY = "alertmanager/kubernetes"
CONFIG_NAME = "rag-observability-lab"
_MATCHER = re.compile(r'^(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)(?P<op>=~|!~|!=|=)"(?P<value>.*)"$')
ROUTE_KEYS = {
    "receiver": "receiver",
    "group_by": "groupBy",
    "group_wait": "groupWait",
    "group_interval": "groupInterval",
    "repeat_interval": "repeatInterval",
}


def matcher(text: str) -> dict[str, str]:
    """`name="value"` as the CRD's structured matcher."""
    found = _MATCHER.match(text)
    if found is None:
        raise ValueError(f"cannot translate the matcher {text!r}")
    return {"name": found["name"], "value": found["value"], "matchType": found["op"]}


def _route(route: dict[str, Any]) -> dict[str, Any]:
    unknown = set(route) - {*ROUTE_KEYS, "matchers", "routes"}
    if unknown:
        raise ValueError(f"route keys without a translation: {sorted(unknown)}")
    out: dict[str, Any] = {new: route[old] for old, new in ROUTE_KEYS.items() if old in route}
    if "matchers" in route:
        out["matchers"] = [matcher(m) for m in route["matchers"]]
    if "routes" in route:
        out["routes"] = [_route(r) for r in route["routes"]]
    return out


def _receiver(receiver: dict[str, Any], spec: Spec) -> dict[str, Any]:
    unknown = set(receiver) - {"name", "webhook_configs"}
    if unknown:
        raise ValueError(f"receiver {receiver['name']}: no translation for {sorted(unknown)}")
    sink = sink_endpoint(spec)
    hooks = []
    for hook in receiver["webhook_configs"]:
        if hook["url"] != spec.routing.sink_url:
            raise ValueError(f"receiver {receiver['name']}: unknown webhook {hook['url']}")
        url = sink.cluster_url(spec.kubernetes.namespace)
        hooks.append({"url": url, "sendResolved": hook["send_resolved"]})
    return {"name": receiver["name"], "webhookConfigs": hooks}


def _inhibit_rule(rule: dict[str, Any], scope: dict[str, str]) -> dict[str, Any]:
    """Compose's rule, its source and target both narrowed to `scope` (see above)."""
    return {
        # Copies: one object repeated would be dumped as a YAML anchor and aliases.
        "sourceMatch": [*(matcher(m) for m in rule["source_matchers"]), dict(scope)],
        "targetMatch": [*(matcher(m) for m in rule["target_matchers"]), dict(scope)],
        "equal": rule["equal"],
    }


def lab_alert_names(spec: Spec) -> list[str]:
    """Every alert the lab's rules raise, and `lab check`'s test alert."""
    return [*(a.name for a in spec.alerts), spec.routing.synthetic.alertname]


def lab_alerts_matcher(spec: Spec) -> dict[str, str]:
    """The lab's alerts, and no other alert of the cluster, by name."""
    # Alertmanager anchors a regex matcher; alert names are CamelCase (no metacharacters).
    return {"name": "alertname", "value": "|".join(lab_alert_names(spec)), "matchType": "=~"}


def from_compose(compose: dict[str, Any], spec: Spec) -> dict[str, Any]:
    """An Alertmanager configuration mapping as the AlertmanagerConfig's spec."""
    scope = lab_alerts_matcher(spec)
    route = _route(compose["route"])
    route["matchers"] = [dict(scope)]
    return {
        "route": route,
        "inhibitRules": [_inhibit_rule(r, scope) for r in compose["inhibit_rules"]],
        "receivers": [_receiver(r, spec) for r in compose["receivers"]],
    }


def alertmanager_config(spec: Spec) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1alpha1",
        "kind": "AlertmanagerConfig",
        "metadata": metadata(CONFIG_NAME),
        "spec": from_compose(alertmanager.config(spec), spec),
    }


def _note(spec: Spec) -> str:
    return f"""\
{READ_AGAINST}
What the operator makes of it (pkg/alertmanager/amcfg.go):
- the route is nested first under the Alertmanager's root route, with `continue: true`;
- receiver names become {spec.kubernetes.namespace}/{CONFIG_NAME}/<name> (what the sink records);
- with the chart values' matcher strategy None, neither the route nor the inhibit rules
  get a namespace matcher, so both match on the lab's alert names.
"""


def render(spec: Spec) -> list[GeneratedFile]:
    config = alertmanager_config(spec)
    objects = [manifest(DIRECTORY, "alertmanagerconfig.yaml", config, comment=_note(spec))]
    return [*objects, kustomization(spec, DIRECTORY, resource_files(objects, DIRECTORY))]
