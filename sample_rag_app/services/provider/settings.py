"""The provider's settings, from PROVIDER_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sample_rag_app.services.provider.faults import ProviderFaults


class ProviderSettings(BaseSettings):
    """Where the provider listens, its seed, limits and latency, and its start-up faults."""

    model_config = SettingsConfigDict(
        env_prefix="PROVIDER_", env_nested_delimiter="__", frozen=True
    )

    host: str = Field("0.0.0.0", description="Interface to listen on (all, inside the container).")
    port: int = Field(8090, ge=1, le=65535, description="Port of the API, admin and /metrics.")
    log_level: str = Field("info", description="debug, info, warning or error.")
    seed: int = Field(
        20, description="Seed of every random draw (faults, latency): a run is reproducible."
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of /admin/faults; unset (the default) disables the admin "
        "endpoints (404).",
    )
    requests_per_minute: int = Field(
        500, ge=1, description="Requests a minute the key may make (x-ratelimit-limit-requests)."
    )
    tokens_per_minute: int = Field(
        200_000, ge=1, description="Tokens a minute the key may use (x-ratelimit-limit-tokens)."
    )
    latency_median_seconds: float = Field(
        0.18, ge=0, le=60, description="Median of the lognormal latency of a call (0: none)."
    )
    latency_sigma: float = Field(0.35, ge=0, le=5, description="Spread of that lognormal.")
    latency_max_seconds: float = Field(3.0, ge=0, le=60, description="Cap of the base latency.")
    fault_retry_after_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        description="retry-after of a 429 the rate_limit_error_rate fault injects.",
    )
    timeout_hold_seconds: float = Field(
        30.0,
        ge=0,
        le=600,
        description="How long a call the llm_timeout_rate fault picks is held before its 504 "
        "(longer than a client's timeout, so the client times out first).",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body, in bytes (413 beyond)."
    )
    faults: ProviderFaults = Field(
        default_factory=lambda: ProviderFaults(),
        description="Start-up faults, one variable each: PROVIDER_FAULTS__LLM_ERROR_RATE...",
    )
