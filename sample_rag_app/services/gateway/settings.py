"""The gateway's settings, from GATEWAY_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Where the gateway listens, which name it relays to, and its limits."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", frozen=True)

    host: str = Field("0.0.0.0", description="Interface to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on.")
    upstream_host: str = Field(
        "app",
        min_length=1,
        description="Name of the replicas: compose answers a scaled service's name with one "
        "address per running replica.",
    )
    upstream_port: int = Field(8000, ge=1, le=65535, description="Port of every replica.")
    connect_timeout_seconds: float = Field(
        2.0, gt=0, le=60, description="Timeout of connecting to one replica."
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description="Client connections relayed at once; beyond, a new one gets a 503 and is "
        "closed (each replica bounds its own with RAG_LIMIT_CONCURRENCY).",
    )
    log_level: str = Field("info", description="debug, info, warning or error.")
