"""The app's settings: its own knobs and two groups, each group read from its own prefix.

The core is read from ``RAG_<FIELD IN CAPITALS>`` (``RAG_PORT=8001``); the faults at
start-up (declared in ``sample_rag_app.pipeline.faults``) from ``RAG_FAULT_<FIELD>``
(``RAG_FAULT_LLM_ERROR_RATE=0.2``); the resilience layer (declared in
``sample_rag_app.pipeline.resilience.config``) from ``RAG_RESILIENCE`` (the master switch)
and ``RAG_RESILIENCE_<PARAMETER>``. Durations are in seconds, money in US dollars, rates
are fractions between 0 and 1. Keywords set a group as a mapping
(``Settings(faults={"llm_error_rate": 0})``), over what its variables set.

Each variable's name, default and allowed values are derived from these models
(``sample_rag_app.runtime.variables``): the reader, the start-up error and the settings
reference (docs/settings.md) use the same names, and no default is retyped in prose.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Literal, cast

from pydantic import AliasGenerator, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from sample_rag_app.pipeline.faults import FaultConfig
from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.runtime.variables import from_environment, variable_names

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class _ReadByName(BaseSettings):
    """Settings read from exactly the variables their model names (``runtime.variables``),
    the ones the start-up error and the reference name. pydantic-settings' own lookup would
    take ``RAG_RESILIENCE`` (the master switch) for the whole group as JSON, and read
    ``RAG_RESILIENCE_ENABLED`` beside the switch's alias."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keywords over the variables, a group's keywords merged over its variables."""
        environment = from_environment(settings_cls, os.environ)
        return (init_settings, InitSettingsSource(settings_cls, init_kwargs=environment))


class FaultSettings(FaultConfig, _ReadByName):
    """The faults at start-up, ``RAG_FAULT_<FIELD>``; the admin endpoint changes them."""

    model_config = SettingsConfigDict(env_prefix="RAG_FAULT_", extra="forbid", frozen=True)


def _master_switch(field_name: str) -> str | None:
    """``enabled`` is the layer's master switch, so it is the group's bare prefix."""
    return "RAG_RESILIENCE" if field_name == "enabled" else None


class ResilienceSettings(ResilienceConfig, _ReadByName):
    """The resilience layer at start-up: ``RAG_RESILIENCE`` and ``RAG_RESILIENCE_<PARAMETER>``."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_RESILIENCE_",
        extra="forbid",
        frozen=True,
        # None leaves a field unaliased (pydantic checks for it); its annotation omits None.
        alias_generator=AliasGenerator(
            validation_alias=cast("Callable[[str], str]", _master_switch)
        ),
        validate_by_name=True,
    )

    @classmethod
    def called(cls, field_name: str) -> str:
        """A rule across the parameters names the variables the reader set."""
        return variable_names(cls)[field_name]


class Settings(_ReadByName):
    """Configuration of the sample RAG app: its own knobs (``RAG_<FIELD>``) and its groups."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", frozen=True)

    # --- serving -------------------------------------------------------------------------
    host: str = Field("0.0.0.0", description="Interface uvicorn binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port uvicorn listens on.")
    service_name: str = Field(
        "rag-app", description="Value of the `service` field on every log line."
    )
    replica: str | None = Field(
        None,
        description="Which replica this process is: the `replica` field of every log line, "
        "the X-Served-By response header and rag_build_info's `replica` label (empty counts "
        "as unset). Unset, the host name, which Docker sets to the container's short id, so "
        "the replicas of `docker compose up --scale app=3` tell themselves apart.",
    )
    workers: int = Field(
        1,
        ge=1,
        le=1,
        description="uvicorn worker processes in this container: only 1. The lab scales by "
        "replicas (`docker compose up -d --scale app=N`), one process each, so every counter, "
        "gauge, exemplar, circuit breaker and admission limit belongs to one scrape target "
        '(README, "Scaling out").',
    )
    timeout_keep_alive_seconds: int = Field(
        5, ge=1, description="Seconds an idle keep-alive connection stays open."
    )
    request_read_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Seconds a client has to send a whole request (line, headers, body) from "
        "connecting or from the first byte of a further request on a kept-alive connection; "
        "then the connection is closed.",
    )
    limit_concurrency: int = Field(
        1000,
        ge=1,
        description="Open connections and running requests beyond which a new request gets "
        "503 (uvicorn's limit_concurrency).",
    )
    max_header_bytes: int = Field(
        16384,
        ge=1024,
        description="Largest request line plus headers, in bytes (uvicorn answers 400 beyond).",
    )

    # --- telemetry -----------------------------------------------------------------------
    log_level: LogLevel = Field("info", description="Lowest log level written.")
    log_questions: bool = Field(
        False,
        description="Log the question text in `query_received` (personal data!). "
        "Off, only its SHA-256 prefix and length are logged.",
    )
    metrics_enabled: bool = Field(
        True,
        description="Record Prometheus metrics; false is for the overhead benchmark "
        "(/metrics then serves an empty registry).",
    )
    logging_enabled: bool = Field(
        True,
        description="Write the request and pipeline log lines; false is for the overhead "
        "benchmark.",
    )

    # --- retrieval -----------------------------------------------------------------------
    corpus_path: Path | None = Field(
        None, description="JSON-lines corpus (id, title, text); unset, the bundled corpus."
    )
    embedding_dimensions: int = Field(
        512, ge=16, le=8192, description="Dimensions of the hashed embedding."
    )

    # --- response cache ------------------------------------------------------------------
    cache_max_size: int = Field(
        1024, ge=0, description="Most cached answers (LRU); 0 disables the cache."
    )
    cache_ttl_seconds: float = Field(
        600.0, gt=0, description="Seconds a cached answer stays valid."
    )

    # --- LLM -----------------------------------------------------------------------------
    llm_model: str = Field(
        "gpt-4o-mini",
        description="Model name: priced from the price table, the `model` label of the cost "
        "and token metrics, and the model asked for by the OpenAI-compatible provider.",
    )
    llm_timeout_seconds: float = Field(
        5.0,
        ge=0,
        description="Timeout of one LLM call; a simulated timeout waits this long.",
    )
    simulated_latency_median_seconds: float = Field(
        0.18,
        ge=0,
        description="Median of the simulated LLM latency (lognormal); 0 means no sleep, "
        "as the unit tests use; the default gives a p95 of about 0.32 s.",
    )
    simulated_latency_sigma: float = Field(
        0.35, ge=0, description="Sigma of the lognormal simulated LLM latency."
    )
    simulated_latency_max_seconds: float = Field(
        3.0, ge=0, description="Upper bound of one simulated LLM latency."
    )
    rate_limit_requests_per_minute: int = Field(
        600,
        ge=1,
        description="Provider limit on LLM requests per sliding minute (the loadgen's 2/s "
        "uses about 12 % of it after cache hits).",
    )
    rate_limit_tokens_per_minute: int = Field(
        300_000, ge=1, description="Provider limit on tokens per sliding minute."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        description="API key of an OpenAI-compatible endpoint. The real provider is used "
        "only when both this and openai_base_url are set.",
    )
    openai_base_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible endpoint, e.g. https://api.openai.com "
        "(`/v1/chat/completions` is appended, `/chat/completions` when it ends in /v1).",
    )

    # --- resilience (M2.4) ----------------------------------------------------------------
    resilience_secondary_model: str = Field(
        "gpt-4.1-nano",
        description="The fallback model (always simulated, another provider: the primary's "
        "faults, outage and latency spike do not reach it).",
    )
    resilience_secondary_latency_median_seconds: float = Field(
        0.12,
        ge=0,
        le=60,
        description="Median of the secondary model's simulated latency (lognormal, the "
        "primary's sigma and cap).",
    )
    resilience_secondary_error_rate: float = Field(
        0.01, ge=0, le=1, description="Fraction of secondary model calls that fail."
    )

    # --- faults --------------------------------------------------------------------------
    faults_file: Path | None = Field(
        None,
        description="A JSON object of faults (FaultUpdate fields) applied over the defaults "
        "at start-up, when the file exists: how `lab scenario` keeps its faults across a "
        "restart of the app. DELETE /admin/faults still goes back to the defaults.",
    )
    random_seed: int | None = Field(
        None,
        description="Seed of the random source behind faults and simulated latency, for "
        "reproducible runs; unset, seeded from the OS.",
    )

    # --- admin and input limits ----------------------------------------------------------
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of the /admin/faults endpoints; unset (or empty), the admin "
        "endpoints answer 404 saying they are disabled.",
    )
    max_question_length: int = Field(
        2000, ge=1, description="Longest accepted question, in characters."
    )
    max_body_bytes: int = Field(
        16384, ge=64, description="Largest accepted request body, in bytes (413)."
    )

    # --- groups, each read from its own prefix -----------------------------------------
    resilience: ResilienceSettings = Field(
        default_factory=ResilienceSettings, description="The resilience layer (M2.4)."
    )
    faults: FaultSettings = Field(
        default_factory=FaultSettings, description="The injected faults at start-up."
    )

    @field_validator("workers", mode="before")
    @classmethod
    def _one_worker_per_replica(cls, value: object) -> object:
        """Refuse several workers with the reason and the way to scale instead."""
        try:
            workers = int(str(value))
        except ValueError:
            return value  # the type check reports it
        if workers > 1:
            raise ValueError(
                f"{workers} workers in one container would each keep their own counters, "
                "gauges, exemplars, circuit breakers and admission limits behind one scrape "
                "target, so /metrics would answer for whichever worker got the scrape; scale "
                f"with replicas instead: `docker compose up -d --scale app={workers}`"
            )
        return value

    @field_validator("admin_token", "openai_api_key", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("openai_base_url", mode="before")
    @classmethod
    def _empty_url_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def replica_name(self) -> str:
        """The ``replica`` setting, else the host name (in Docker, the container's short id)."""
        return self.replica or socket.gethostname()

    @property
    def llm_provider(self) -> Literal["simulated", "openai"]:
        """`openai` when both an API key and a base URL are configured, else `simulated`."""
        if self.openai_api_key is not None and self.openai_base_url is not None:
            return "openai"
        return "simulated"
