"""The traffic generator's settings (environment prefix ``LOADGEN_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LoadgenSettings(BaseSettings):
    """Configuration of the load generator; each field is ``LOADGEN_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="LOADGEN_", extra="ignore", frozen=True)

    target_url: str = Field("http://app:8000", description="Base URL of the app.")
    spread_over_replicas: bool = Field(
        True,
        description="Resolve the target's host name before every request and take its "
        "addresses in turn, so that with several replicas (`docker compose up -d --scale "
        "app=3`, one DNS address each) every replica gets its share, instead of all requests "
        "riding one pooled keep-alive connection to one replica. Plain http only (an https "
        "certificate names the host, not its addresses).",
    )
    rate_per_second: float = Field(
        2.0, gt=0, le=1000, description="Mean queries per second (Poisson)."
    )
    repeat_fraction: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Share of queries drawn from a small set of popular questions (cache "
        "hits once asked); the rest are new combinations.",
    )
    duration_seconds: float = Field(
        0.0, ge=0, description="Stop after this many seconds; 0 runs forever."
    )
    top_k: int = Field(4, ge=1, le=20, description="top_k of every query.")
    request_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one request.")
    max_in_flight: int = Field(
        16,
        ge=1,
        description="Worker threads, and most requests in flight; an arrival that finds all "
        "busy is dropped (and counted), so a slow app cannot throttle the rate.",
    )
    ready_timeout_seconds: float = Field(
        300.0, ge=0, description="How long to wait for the app's /readyz at start."
    )
    progress_interval_seconds: float = Field(
        30.0, gt=0, description="Seconds between progress log lines."
    )
    seed: int | None = Field(None, description="Random seed (questions, arrivals).")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest log level written; debug logs every request."
    )
