"""The alert sink: the compose service `alert-sink` that receives Alertmanager's webhook.

It validates each notification, appends it to a JSON-lines file (fsync'd, reloaded on
start), logs it as JSON, serves what it received at `GET /alerts`, and can forward to Slack.
Run it with `python -m sample_rag_app.services.alert_sink`.
"""

from sample_rag_app.services.alert_sink.app import create_app
from sample_rag_app.services.alert_sink.settings import AlertSinkSettings

__all__ = ["AlertSinkSettings", "create_app"]
