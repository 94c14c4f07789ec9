"""The alert sink's settings, from ALERT_SINK_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlertSinkSettings(BaseSettings):
    """Where the sink listens, where it keeps alerts, and where it may forward them."""

    model_config = SettingsConfigDict(env_prefix="ALERT_SINK_", frozen=True)

    host: str = Field("0.0.0.0", description="Interface to listen on (all, inside the container).")
    port: int = Field(9095, ge=1, le=65535, description="Port of the webhook and the API.")
    data_file: Path = Field(
        Path("/data/alerts.jsonl"), description="JSON-lines file every notification is added to."
    )
    log_level: str = Field("info", description="debug, info, warning or error.")
    slack_webhook_url: SecretStr | None = Field(
        None, description="Slack incoming-webhook URL to forward notifications to."
    )
    slack_webhook_url_file: Path | None = Field(
        None, description="A file holding the Slack webhook URL (wins over the URL)."
    )
    slack_timeout_seconds: float = Field(5.0, gt=0, description="Timeout of a Slack post.")
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest webhook body, in bytes, counted as it arrives (413 beyond).",
    )
    memory_max_bytes: int = Field(
        33_554_432,
        ge=0,
        description="Budget of the newest notifications kept in memory and served by "
        "GET /alerts, in bytes of their JSON lines; the file keeps every one.",
    )
    timeout_keep_alive_seconds: int = Field(
        5, ge=1, description="Seconds an idle keep-alive connection stays open."
    )
    limit_concurrency: int = Field(
        100, ge=1, description="Open connections and requests before new requests get 503."
    )

    def slack_url(self) -> str | None:
        """The Slack webhook URL, read from the file when one is set; None when unset."""
        if self.slack_webhook_url_file is not None:
            text = self.slack_webhook_url_file.read_text(encoding="utf-8").strip()
            return text or None
        if self.slack_webhook_url is not None:
            return self.slack_webhook_url.get_secret_value() or None
        return None
