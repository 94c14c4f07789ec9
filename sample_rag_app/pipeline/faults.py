"""Injected faults: failing, slow or rate-limited LLM calls and a vector store that is down.

The start-up values are the settings' ``faults`` (``RAG_FAULT_*``, declared here as
``FaultConfig``); the admin endpoint changes them at run time. Random decisions use the
``random.Random`` the injector is given, so a seeded one makes every decision
reproducible. Two faults are windows in time rather than rates:
a provider outage and a latency spike, each lasting a given number of seconds from the
moment it is set, measured on the app's clock. Every LLM fault hits the primary model
only: the secondary model is another provider.

The telemetry faults (``rename_latency_metric``, ``label_queries_by_user``,
``lose_correlation_id``) leave the answers alone and make the app's signals lie, as a bad
build would; ``sample_rag_app.telemetry.faults`` applies them around the truthful
telemetry (declared here so one model, one admin API and one settings prefix cover every
fault). ``errors_as_empty_answers`` lies in the answer itself: the pipeline's error
handler swallows the failure, so the client gets a blank 200 and the telemetry counts an
answer. The lab's graded scenarios (``lab scenario``) inject them.
"""

from __future__ import annotations

import math
import random
import threading
from typing import TYPE_CHECKING, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from sample_rag_app.clock import Clock, SystemClock
from sample_rag_app.pipeline.partial import partial_model

LLMFault = Literal["rate_limited", "llm_timeout", "llm_error"]


#: The latency histogram's name under the `rename_latency_metric` fault.
RENAMED_LATENCY_METRIC: Final = "rag_request_latency_seconds"


class FaultConfig(BaseModel):
    """The faults in force, declared once: settings, admin API and docs derive from here.

    Each field's start-up value is read from ``RAG_FAULT_<FIELD IN CAPITALS>``; ``PUT
    /admin/faults`` (whose strict partial body ``FaultUpdate`` is derived from this model)
    changes it at run time and ``DELETE /admin/faults`` resets it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    llm_error_rate: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Fraction of LLM calls that fail (HTTP 502). Cache hits never call the "
        "LLM, so with the loadgen's ~40 % hit rate the default fails about 0.6 % of queries, "
        "the course's baseline of 0.5-2 % (and below the 1 % error-rate alert).",
    )
    llm_timeout_rate: float = Field(
        0.0, ge=0, le=1, description="Fraction of LLM calls that time out (504)."
    )
    rate_limit_error_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction of LLM calls rejected as rate limited (429).",
    )
    added_latency_seconds: float = Field(
        0.0, ge=0, le=60, description="Extra seconds added to every LLM call."
    )
    vector_store_down: bool = Field(False, description="Every vector search fails (503).")
    rate_limit_consumed_percent: float = Field(
        0.0,
        ge=0,
        le=100,
        description="Percent of the provider's rate limit used by other clients of the same "
        "key (another service, a batch job): lowers the headroom and the calls admitted.",
    )
    slow_call_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction of primary LLM calls that take slow_call_seconds longer (a "
        "provider's slow shard: only the tail of the latency moves).",
    )
    slow_call_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="Extra seconds of each call slow_call_rate picks.",
    )
    # --- telemetry faults: the app answers as before, its signals lie -------------------
    rename_latency_metric: bool = Field(
        False,
        description="/metrics serves rag_query_duration_seconds under the name "
        f"{RENAMED_LATENCY_METRIC} (a build that renamed it): panels and alerts on the "
        "old name go empty.",
    )
    label_queries_by_user: bool = Field(
        False,
        description="Count every query in rag_user_queries_total{user_id=...}, one new "
        "series per caller (a per-user label that crept in).",
    )
    lose_correlation_id: bool = Field(
        False,
        description="The LLM stage and the response log without the request's "
        "correlation_id (a code path that drops the request context).",
    )
    errors_as_empty_answers: bool = Field(
        False,
        description="A failed query is answered 200 with an empty answer and counted and "
        "logged as answered (an error handler that swallows the failure): the error rate "
        "looks perfect.",
    )


class FaultWindows(BaseModel):
    """Faults that start when set and last a while (admin API only, no setting)."""

    llm_outage_seconds: float = Field(
        gt=0,
        le=3600,
        description="From now on, every primary LLM call fails (provider 5xx, llm_error) "
        "for this many seconds.",
    )
    latency_spike_seconds: float = Field(
        ge=0,
        le=60,
        description="Extra seconds per primary LLM call during the spike (set together "
        "with latency_spike_duration_seconds).",
    )
    latency_spike_duration_seconds: float = Field(
        gt=0, le=3600, description="How long the latency spike lasts from now, in seconds."
    )


class FaultStatus(FaultConfig):
    """The faults in force, with what is left of the outage and the latency spike."""

    llm_outage_remaining_seconds: float = Field(
        0.0, description="Seconds left of the provider outage (0: none)."
    )
    latency_spike_seconds: float = Field(
        0.0, description="Extra seconds per primary LLM call now (0: no spike)."
    )
    latency_spike_remaining_seconds: float = Field(
        0.0, description="Seconds left of the latency spike (0: none)."
    )


class _ChangeableFaults(FaultConfig, FaultWindows):
    """Every field a PUT may change: the rates and switches, and the windows."""


if TYPE_CHECKING:
    FaultUpdate = BaseModel
else:
    FaultUpdate = partial_model(
        _ChangeableFaults,
        "FaultUpdate",
        "A partial change of the faults: only the fields given are changed.",
    )


class FaultInjector:
    """Holds the current faults and draws the random ones; thread-safe."""

    def __init__(
        self, defaults: FaultConfig, rng: random.Random, clock: Clock | None = None
    ) -> None:
        self._defaults = defaults
        self._config = defaults
        self._rng = rng
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._outage_until = -math.inf
        self._spike_until = -math.inf
        self._spike_seconds = 0.0

    @property
    def config(self) -> FaultConfig:
        """The faults currently in force."""
        return self._config

    def status(self) -> FaultStatus:
        """The faults in force and the time left of the outage and the latency spike."""
        now = self._clock.now()
        spike_left = max(0.0, self._spike_until - now)
        return FaultStatus(
            **self._config.model_dump(),
            llm_outage_remaining_seconds=round(max(0.0, self._outage_until - now), 3),
            latency_spike_seconds=self._spike_seconds if spike_left > 0 else 0.0,
            latency_spike_remaining_seconds=round(spike_left, 3),
        )

    def update(self, change: BaseModel) -> FaultStatus:
        """Apply the fields set in ``change`` (a FaultUpdate); return the new status.

        Raises ValueError when a latency spike lacks its size or its duration.
        """
        values = change.model_dump(exclude_none=True)
        outage = values.pop("llm_outage_seconds", None)
        spike = values.pop("latency_spike_seconds", None)
        duration = values.pop("latency_spike_duration_seconds", None)
        if (spike is None) != (duration is None):
            raise ValueError(
                "latency_spike_seconds and latency_spike_duration_seconds must be set together"
            )
        with self._lock:
            self._config = FaultConfig.model_validate(self._config.model_dump() | values)
            now = self._clock.now()
            if outage is not None:
                self._outage_until = now + outage
            if spike is not None and duration is not None:
                self._spike_seconds, self._spike_until = spike, now + duration
        return self.status()

    def reset(self) -> FaultStatus:
        """Go back to the configured defaults; end the outage and the latency spike."""
        with self._lock:
            self._config = self._defaults
            self._outage_until = self._spike_until = -math.inf
            self._spike_seconds = 0.0
        return self.status()

    def primary_outage(self) -> bool:
        """True while an injected provider outage lasts."""
        return self._clock.now() < self._outage_until

    def primary_added_latency(self) -> float:
        """Seconds added to a primary LLM call now: the added latency, any spike, and
        ``slow_call_seconds`` for the share of calls ``slow_call_rate`` picks."""
        config = self._config
        extra = config.added_latency_seconds
        if self._clock.now() < self._spike_until:
            extra += self._spike_seconds
        if config.slow_call_rate > 0:
            with self._lock:
                slow = self._rng.random() < config.slow_call_rate
            if slow:
                extra += config.slow_call_seconds
        return extra

    def draw_llm_fault(self) -> LLMFault | None:
        """Decide with one random draw whether this LLM call fails, and how.

        The rates add up: with a 10 % error rate and a 5 % timeout rate, 15 % of calls fail.
        """
        config = self._config
        with self._lock:
            draw = self._rng.random()
        threshold = config.rate_limit_error_rate
        if draw < threshold:
            return "rate_limited"
        threshold += config.llm_timeout_rate
        if draw < threshold:
            return "llm_timeout"
        threshold += config.llm_error_rate
        if draw < threshold:
            return "llm_error"
        return None
