"""Optional forwarding of notifications to a Slack incoming webhook."""

from __future__ import annotations

import requests
import structlog

from sample_rag_app.services.alert_sink.models import WebhookPayload

log = structlog.get_logger("sample_rag_app.services.alert_sink.slack")


def message(payload: WebhookPayload) -> dict[str, str]:
    """A plain Slack message: one line per alert with its summary and runbook."""
    lines = [f"*[{payload.status.upper()}]* {payload.group_labels or payload.common_labels}"]
    for alert in payload.alerts:
        name = alert.labels.get("alertname", "?")
        summary = alert.annotations.get("summary", "")
        runbook = alert.annotations.get("runbook_url", "")
        lines.append(f"• {alert.status}: {name}: {summary}" + (f" ({runbook})" if runbook else ""))
    return {"text": "\n".join(lines)}


def forward(url: str, payload: WebhookPayload, *, timeout: float) -> bool:
    """Post to Slack; a failure is logged and reported, never raised."""
    try:
        response = requests.post(url, json=message(payload), timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as exc:
        log.warning("slack_forward_failed", error=str(exc), group_key=payload.group_key)
        return False
    log.info("slack_forwarded", group_key=payload.group_key, alerts=len(payload.alerts))
    return True
