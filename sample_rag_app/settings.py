"""The app's one settings object: every knob, its environment variable and its default.

Each field is read from the environment variable ``RAG_<FIELD NAME IN CAPITALS>``
(for example ``RAG_PORT=8001`` or ``RAG_FAULT_LLM_ERROR_RATE=0.2``). Durations are in
seconds, money in US dollars, rates are fractions between 0 and 1. The resilience
parameters are one nested model, ``resilience`` (declared in
``sample_rag_app.pipeline.resilience.config``), read from ``RAG_RESILIENCE`` (the master
switch) and ``RAG_RESILIENCE_<PARAMETER>``; the faults another, ``faults`` (declared in
``sample_rag_app.pipeline.faults``), read from ``RAG_FAULT_<FIELD>``. A keyword
``fault_<field>=`` (as tests pass it) sets the same field as ``RAG_FAULT_<FIELD>``.

A value that cannot work is refused when the settings are read; ``startup_error``
turns the refusal into a message naming each environment variable and its allowed values.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from sample_rag_app.pipeline.faults import FaultConfig
from sample_rag_app.pipeline.faults import env_var as fault_env_var
from sample_rag_app.pipeline.partial import allowed_range
from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.pipeline.resilience.config import env_var as resilience_env_var

#: The nested models: each field of the model has its own environment variable.
_NESTED: dict[str, tuple[type[BaseModel], Callable[[str], str]]] = {
    "resilience": (ResilienceConfig, resilience_env_var),
    "faults": (FaultConfig, fault_env_var),
}
_FAULT_KEYWORD = "fault_"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class Settings(BaseSettings):
    """Configuration of the sample RAG app (environment prefix ``RAG_``)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", frozen=True)

    # --- serving -------------------------------------------------------------------------
    host: str = Field("0.0.0.0", description="Interface uvicorn binds to. Default 0.0.0.0.")
    port: int = Field(
        8000, ge=1, le=65535, description="TCP port uvicorn listens on. Default 8000."
    )
    service_name: str = Field(
        "rag-app", description="Value of the `service` field on every log line. Default rag-app."
    )
    replica: str | None = Field(
        None,
        description="Which replica this process is: the `replica` field of every log line, "
        "the X-Served-By response header and rag_build_info's `replica` label (empty counts "
        "as unset). Default unset: "
        "the host name, which Docker sets to the container's short id, so the replicas of "
        "`docker compose up --scale app=3` tell themselves apart.",
    )
    workers: int = Field(
        1,
        ge=1,
        le=1,
        description="uvicorn worker processes in this container: only 1. The lab scales by "
        "replicas (`docker compose up -d --scale app=N`), one process each, so every counter, "
        "gauge, exemplar, circuit breaker and admission limit belongs to one scrape target "
        '(README, "Scaling out"). Default 1.',
    )
    timeout_keep_alive_seconds: int = Field(
        5, ge=1, description="Seconds an idle keep-alive connection stays open. Default 5."
    )
    request_read_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Seconds a client has to send a whole request (line, headers, body) from "
        "connecting or from the first byte of a further request on a kept-alive connection; "
        "then the connection is closed. Default 10.",
    )
    limit_concurrency: int = Field(
        1000,
        ge=1,
        description="Open connections and running requests beyond which a new request gets "
        "503 (uvicorn's limit_concurrency). Default 1000.",
    )
    max_header_bytes: int = Field(
        16384,
        ge=1024,
        description="Largest request line plus headers, in bytes (uvicorn answers 400 "
        "beyond). Default 16384.",
    )

    # --- telemetry -----------------------------------------------------------------------
    log_level: LogLevel = Field("info", description="Lowest log level written. Default info.")
    log_questions: bool = Field(
        False,
        description="Log the question text in `query_received` (personal data!). Default "
        "false: only its SHA-256 prefix and length are logged.",
    )
    metrics_enabled: bool = Field(
        True,
        description="Record Prometheus metrics. Default true; false is for the overhead "
        "benchmark (/metrics then serves an empty registry).",
    )
    logging_enabled: bool = Field(
        True,
        description="Write the request and pipeline log lines. Default true; false is for "
        "the overhead benchmark.",
    )

    # --- retrieval -----------------------------------------------------------------------
    corpus_path: Path | None = Field(
        None, description="JSON-lines corpus (id, title, text). Default unset: the bundled corpus."
    )
    embedding_dimensions: int = Field(
        512, ge=16, le=8192, description="Dimensions of the hashed embedding. Default 512."
    )

    # --- response cache ------------------------------------------------------------------
    cache_max_size: int = Field(
        1024, ge=0, description="Most cached answers (LRU); 0 disables the cache. Default 1024."
    )
    cache_ttl_seconds: float = Field(
        600.0, gt=0, description="Seconds a cached answer stays valid. Default 600."
    )

    # --- LLM -----------------------------------------------------------------------------
    llm_model: str = Field(
        "gpt-4o-mini",
        description="Model name: priced from the price table, the `model` label of the cost "
        "and token metrics, and the model asked for by the OpenAI-compatible provider. "
        "Default gpt-4o-mini.",
    )
    llm_timeout_seconds: float = Field(
        5.0,
        ge=0,
        description="Timeout of one LLM call; a simulated timeout waits this long. Default 5.",
    )
    simulated_latency_median_seconds: float = Field(
        0.18,
        ge=0,
        description="Median of the simulated LLM latency (lognormal); 0 means no sleep, "
        "as the unit tests use. Default 0.18 s (p95 about 0.32 s).",
    )
    simulated_latency_sigma: float = Field(
        0.35, ge=0, description="Sigma of the lognormal simulated LLM latency. Default 0.35."
    )
    simulated_latency_max_seconds: float = Field(
        3.0, ge=0, description="Upper bound of one simulated LLM latency. Default 3."
    )
    rate_limit_requests_per_minute: int = Field(
        600,
        ge=1,
        description="Provider limit on LLM requests per sliding minute (the loadgen's 2/s "
        "uses about 12 % of it after cache hits). Default 600.",
    )
    rate_limit_tokens_per_minute: int = Field(
        300_000, ge=1, description="Provider limit on tokens per sliding minute. Default 300000."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        description="API key of an OpenAI-compatible endpoint. The real provider is used "
        "only when both this and openai_base_url are set. Default unset.",
    )
    openai_base_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible endpoint, e.g. https://api.openai.com "
        "(`/v1/chat/completions` is appended, `/chat/completions` when it ends in /v1). "
        "Default unset.",
    )

    # --- resilience (M2.4) ----------------------------------------------------------------
    resilience: ResilienceConfig = Field(
        default_factory=ResilienceConfig,
        description="The resilience layer: master switch RAG_RESILIENCE (default off), one "
        "switch per mechanism and its parameters, RAG_RESILIENCE_<PARAMETER> (see "
        "ResilienceConfig for each default and range).",
    )
    resilience_secondary_model: str = Field(
        "gpt-4.1-nano",
        description="The fallback model (always simulated, another provider: the primary's "
        "faults, outage and latency spike do not reach it). Default gpt-4.1-nano.",
    )
    resilience_secondary_latency_median_seconds: float = Field(
        0.12,
        ge=0,
        le=60,
        description="Median of the secondary model's simulated latency (lognormal, the "
        "primary's sigma and cap). Default 0.12.",
    )
    resilience_secondary_error_rate: float = Field(
        0.01, ge=0, le=1, description="Fraction of secondary model calls that fail. Default 0.01."
    )

    # --- faults --------------------------------------------------------------------------
    faults: FaultConfig = Field(
        default_factory=FaultConfig,
        description="The injected faults at start-up, RAG_FAULT_<FIELD> (see FaultConfig for "
        "each default and range); the admin endpoint changes them at run time.",
    )
    random_seed: int | None = Field(
        None,
        description="Seed of the random source behind faults and simulated latency, for "
        "reproducible runs. Default unset (seeded from the OS).",
    )

    # --- admin and input limits ----------------------------------------------------------
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of the /admin/faults endpoints. Default unset: the admin "
        "endpoints answer 404 saying they are disabled. An empty value counts as unset.",
    )
    max_question_length: int = Field(
        2000, ge=1, description="Longest accepted question, in characters. Default 2000."
    )
    max_body_bytes: int = Field(
        16384, ge=64, description="Largest accepted request body, in bytes (413). Default 16384."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _EnvWithNestedModels(settings_cls), dotenv_settings)

    @model_validator(mode="before")
    @classmethod
    def _fault_keywords(cls, data: Any) -> Any:
        """``fault_<field>=`` keywords into ``faults``, like ``RAG_FAULT_<FIELD>``."""
        if not isinstance(data, dict):
            return data
        keywords = {f"{_FAULT_KEYWORD}{name}": name for name in FaultConfig.model_fields}
        flat = {keywords[key]: value for key, value in data.items() if key in keywords}
        if not flat:
            return data
        rest = {key: value for key, value in data.items() if key not in keywords}
        given = rest.get("faults", {})
        given = given.model_dump() if isinstance(given, BaseModel) else dict(given)
        return rest | {"faults": given | flat}

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


class _EnvWithNestedModels(EnvSettingsSource):
    """``RAG_*`` as usual, plus one variable per field of each nested model.

    The plain source would read ``RAG_RESILIENCE=on`` as the JSON of the whole nested
    model; here it is the master switch, and each parameter (and each fault,
    ``RAG_FAULT_<FIELD>``) has its own variable.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name in _NESTED:
            return None, field_name, False
        return super().get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        for field_name, (model, env_var) in _NESTED.items():
            nested = {
                name: self.env_vars[env_var(name).lower()]
                for name in model.model_fields
                if env_var(name).lower() in self.env_vars
            }
            if nested:
                data[field_name] = nested
        return data


def _env_var_of(loc: tuple[int | str, ...]) -> tuple[str, FieldInfo | None]:
    name = str(loc[0]) if loc else ""
    if name in _NESTED:
        model, env_var = _NESTED[name]
        if len(loc) > 1 and str(loc[1]) in model.model_fields:
            return env_var(str(loc[1])), model.model_fields[str(loc[1])]
        return env_var("*"), None
    return f"RAG_{name.upper()}", Settings.model_fields.get(name)


def startup_error(error: ValidationError) -> str:
    """Why the settings cannot work: one line per bad variable, with the values allowed."""
    lines = ["the app cannot start with these settings:"]
    for item in error.errors():
        variable, field = _env_var_of(tuple(item["loc"]))
        allowed = f" (allowed: {allowed_range(field)})" if field is not None else ""
        value = f", got {item['input']!r}" if not isinstance(item["input"], dict) else ""
        message = str(item["msg"])
        if field is None:  # a rule across fields: name their variables in the message
            for name in sorted(ResilienceConfig.model_fields, key=len, reverse=True):
                message = re.sub(rf"\b{name}\b", resilience_env_var(name), message)
        lines.append(f"  {variable}: {message}{value}{allowed}")
    return "\n".join(lines)
