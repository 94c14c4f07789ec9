"""Injected faults: failing, slow or rate-limited LLM calls and a vector store that is down.

The defaults come from the settings (``RAG_FAULT_*``); the admin endpoint changes them at
run time. Random decisions use the ``random.Random`` the injector is given, so a seeded
one makes every decision reproducible.
"""

from __future__ import annotations

import random
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LLMFault = Literal["rate_limited", "llm_timeout", "llm_error"]


class FaultConfig(BaseModel):
    """The faults in force."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    llm_error_rate: float = Field(0.0, ge=0, le=1, description="Fraction of LLM calls that fail.")
    llm_timeout_rate: float = Field(
        0.0, ge=0, le=1, description="Fraction of LLM calls that time out."
    )
    rate_limit_error_rate: float = Field(
        0.0, ge=0, le=1, description="Fraction of LLM calls rejected as rate limited."
    )
    added_latency_seconds: float = Field(
        0.0, ge=0, le=60, description="Seconds added to every LLM call."
    )
    vector_store_down: bool = Field(False, description="Every vector search fails.")
    rate_limit_consumed_percent: float = Field(
        0.0,
        ge=0,
        le=100,
        description="Share of the provider's rate limit used by other clients of the same "
        "key (another service, a batch job): lowers the headroom and the calls admitted.",
    )


class FaultUpdate(BaseModel):
    """A partial change of the faults: only the fields given are changed.

    Strict: an operator's "0.5" or "yes" is refused rather than guessed at.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    llm_error_rate: float | None = Field(None, ge=0, le=1)
    llm_timeout_rate: float | None = Field(None, ge=0, le=1)
    rate_limit_error_rate: float | None = Field(None, ge=0, le=1)
    added_latency_seconds: float | None = Field(None, ge=0, le=60)
    vector_store_down: bool | None = None
    rate_limit_consumed_percent: float | None = Field(None, ge=0, le=100)


class FaultInjector:
    """Holds the current faults and draws the random ones; thread-safe."""

    def __init__(self, defaults: FaultConfig, rng: random.Random) -> None:
        self._defaults = defaults
        self._config = defaults
        self._rng = rng
        self._lock = threading.Lock()

    @property
    def config(self) -> FaultConfig:
        """The faults currently in force."""
        return self._config

    def update(self, change: FaultUpdate) -> FaultConfig:
        """Apply the fields set in ``change`` and return the new configuration."""
        with self._lock:
            merged = self._config.model_dump() | change.model_dump(exclude_none=True)
            self._config = FaultConfig.model_validate(merged)
            return self._config

    def reset(self) -> FaultConfig:
        """Go back to the configured defaults."""
        with self._lock:
            self._config = self._defaults
            return self._config

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
