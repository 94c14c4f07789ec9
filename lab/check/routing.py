"""Where Alertmanager sends an alert: its route tree, walked the way Alertmanager walks it.

Check 3 must know which receivers its test alert will reach before it sends it (a real
Slack channel needs the learner's consent), and `lab target discover` writes the receivers
a warning reaches. Both read the configuration Alertmanager runs (GET /api/v2/status), so
what is walked is what is loaded, not a file that may differ.

The walk: the root route matches every alert; a matching route's children are tried in
order, the first match ends the search unless it says `continue: true`; a route with no
matching child is where the alert lands. `group_wait`/`group_interval` are inherited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lab.spec.model import duration_seconds

#: Alertmanager's defaults when no route on the way sets them.
DEFAULT_GROUP_WAIT = "30s"
DEFAULT_GROUP_INTERVAL = "5m"
#: Integrations that reach a person: a test alert goes there only with the learner's consent.
REAL_CHANNELS = frozenset(
    {
        "slack",
        "email",
        "pagerduty",
        "opsgenie",
        "victorops",
        "pushover",
        "telegram",
        "msteams",
        "msteamsv2",
        "discord",
        "webex",
        "sns",
        "wechat",
        "jira",
        "rocketchat",
    }
)

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Delivery:
    """A receiver an alert lands at, with the waits of the route that sends it there."""

    receiver: str
    integrations: tuple[str, ...]  # "webhook", "slack", ... (one per *_configs entry kind)
    group_wait_seconds: float
    group_interval_seconds: float

    @property
    def real_channels(self) -> tuple[str, ...]:
        return tuple(i for i in self.integrations if i in REAL_CHANNELS)


def _matches(route: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for name, value in (route.get("match") or {}).items():
        if labels.get(name, "") != str(value):
            return False
    for name, pattern in (route.get("match_re") or {}).items():
        if not re.fullmatch(str(pattern), labels.get(name, "")):
            return False
    for matcher in route.get("matchers") or []:
        found = _MATCHER.match(str(matcher))
        if found is None:
            return False
        name, op, value = found.groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        actual = labels.get(name, "")
        ok = {
            "=": actual == value,
            "!=": actual != value,
            "=~": re.fullmatch(value, actual) is not None,
            "!~": re.fullmatch(value, actual) is None,
        }[op]
        if not ok:
            return False
    return True


def _walk(
    route: Mapping[str, Any], labels: Mapping[str, str], inherited: dict[str, str]
) -> list[dict[str, str]]:
    params = {
        key: str(route[key]) if route.get(key) is not None else inherited[key]
        for key in ("receiver", "group_wait", "group_interval")
    }
    landed: list[dict[str, str]] = []
    for child in route.get("routes") or []:
        if not _matches(child, labels):
            continue
        landed.extend(_walk(child, labels, params))
        if not child.get("continue", False):
            break
    return landed or [params]


def integrations(config: Mapping[str, Any], receiver: str) -> tuple[str, ...]:
    """The kinds of channel `receiver` sends to (`slack_configs` -> "slack")."""
    for entry in config.get("receivers") or []:
        if entry.get("name") == receiver:
            return tuple(
                key.removesuffix("_configs")
                for key, value in entry.items()
                if key.endswith("_configs") and value
            )
    return ()


def deliveries(config: Mapping[str, Any], labels: Mapping[str, str]) -> list[Delivery]:
    """Where an alert with `labels` lands under `config` (Alertmanager's, parsed)."""
    root = config.get("route") or {}
    start = {
        "receiver": str(root.get("receiver", "")),
        "group_wait": DEFAULT_GROUP_WAIT,
        "group_interval": DEFAULT_GROUP_INTERVAL,
    }
    return [
        Delivery(
            receiver=params["receiver"],
            integrations=integrations(config, params["receiver"]),
            group_wait_seconds=duration_seconds(params["group_wait"]),
            group_interval_seconds=duration_seconds(params["group_interval"]),
        )
        for params in _walk(root, labels, start)
    ]
