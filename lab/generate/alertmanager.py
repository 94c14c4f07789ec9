"""alertmanager/alertmanager.yml: routes by severity, inhibition, the alert-sink webhook.

`lab check`'s test alert has a route of its own ahead of the others: a group per run
with waits of a second, to the alert sink only, so its round trip takes seconds while
the real alerts keep their grouping.

The committed file only needs the alert sink. Slack and email are opt-in and read their
secrets at run time from files (`api_url_file`, `auth_password_file`) under the secrets
directory, so no secret is ever generated into a file: `lab generate --with-slack` (and/or
`--with-email`) writes the git-ignored variant `alertmanager/local/alertmanager.yml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.generate._output import GeneratedFile, to_yaml
from lab.spec.model import Severity, Spec

CONFIG_PATH = "alertmanager/alertmanager.yml"
LOCAL_CONFIG_PATH = "alertmanager/local/alertmanager.yml"
SINK = "alert-sink"
HEARTBEAT_REPEAT = "5m"
SLACK_SECRET = "slack_webhook_url"
SMTP_SECRET = "smtp_password"

_SLACK_TITLE = (
    "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})"
)
_SLACK_TEXT = (
    "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n"
    "Runbook: {{ .Annotations.runbook_url }}\n{{ end }}"
)


@dataclass(frozen=True)
class Channels:
    """Which optional notification channels a rendered config includes."""

    slack: bool = False
    email: bool = False


def _matcher(label: str, value: str) -> str:
    return f'{label}="{value}"'


def _receiver(
    name: str, spec: Spec, channels: Channels, severity: Severity | None
) -> dict[str, Any]:
    routing = spec.routing
    receiver: dict[str, Any] = {
        "name": name,
        "webhook_configs": [{"url": routing.sink_url, "send_resolved": True}],
    }
    if channels.slack and severity in (Severity.CRITICAL, Severity.WARNING):
        receiver["slack_configs"] = [
            {
                "api_url_file": f"{routing.secrets_dir}/{SLACK_SECRET}",
                "channel": routing.slack_channel,
                "send_resolved": True,
                "title": _SLACK_TITLE,
                "text": _SLACK_TEXT,
            }
        ]
    if channels.email and severity is Severity.CRITICAL:
        receiver["email_configs"] = [
            {
                "to": routing.email_to,
                "from": routing.email_from,
                "smarthost": routing.smarthost,
                "auth_username": routing.email_username,
                "auth_password_file": f"{routing.secrets_dir}/{SMTP_SECRET}",
                "send_resolved": True,
            }
        ]
    return receiver


def _synthetic_route(spec: Spec) -> dict[str, Any]:
    """First, so it wins over the severity routes: the test alert carries a severity too."""
    synthetic = spec.routing.synthetic
    return {
        "receiver": SINK,
        "matchers": [_matcher("alertname", synthetic.alertname)],
        "group_by": list(synthetic.group_by),
        "group_wait": synthetic.group_wait,
        "group_interval": synthetic.group_interval,
    }


def config(spec: Spec, channels: Channels = Channels()) -> dict[str, Any]:
    """The Alertmanager configuration as a plain mapping."""
    routing = spec.routing
    slo_label = _matcher("slo", spec.slo.name)
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": SINK,
            "group_by": list(routing.group_by),
            "group_wait": routing.group_wait,
            "group_interval": routing.group_interval,
            "repeat_interval": routing.repeat_interval,
            "routes": [
                _synthetic_route(spec),
                {
                    # The Watchdog heartbeat: re-sent often so the sink can prove the path works.
                    "receiver": "heartbeat",
                    "matchers": [_matcher("severity", Severity.NONE.value)],
                    "repeat_interval": HEARTBEAT_REPEAT,
                },
                {"receiver": "critical", "matchers": [_matcher("severity", "critical")]},
                {"receiver": "warning", "matchers": [_matcher("severity", "warning")]},
            ],
        },
        "inhibit_rules": [
            {
                # A critical alert silences the warning of the same name.
                "source_matchers": [_matcher("severity", "critical")],
                "target_matchers": [_matcher("severity", "warning")],
                "equal": ["alertname"],
            },
            {
                # A paging burn-rate alert silences the ticket for the same SLO.
                "source_matchers": [_matcher("severity", "critical"), slo_label],
                "target_matchers": [_matcher("severity", "warning"), slo_label],
                "equal": ["slo"],
            },
        ],
        "receivers": [
            _receiver(SINK, spec, channels, None),
            _receiver("heartbeat", spec, channels, Severity.NONE),
            _receiver("critical", spec, channels, Severity.CRITICAL),
            _receiver("warning", spec, channels, Severity.WARNING),
        ],
    }


def render(spec: Spec) -> list[GeneratedFile]:
    return [GeneratedFile(CONFIG_PATH, to_yaml(config(spec)))]


def render_local(spec: Spec, channels: Channels) -> GeneratedFile:
    """The git-ignored variant with Slack and/or email; secrets stay in files."""
    wanted = [name for name, on in (("slack", channels.slack), ("email", channels.email)) if on]
    secrets = [SLACK_SECRET] * channels.slack + [SMTP_SECRET] * channels.email
    note = (
        f"Local variant with {' and '.join(wanted)} (git-ignored; see alertmanager/README.md).\n"
        + "".join(f"Needs the file {spec.routing.secrets_dir}/{s}.\n" for s in secrets)
    )
    return GeneratedFile(LOCAL_CONFIG_PATH, to_yaml(config(spec, channels), comment=note))
