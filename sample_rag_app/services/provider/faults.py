"""The provider's fault model: the in-process simulator's LLM faults, served over HTTP.

The fields mirror `sample_rag_app.pipeline.faults` (`FaultConfig`'s LLM faults and
`FaultWindows`) field for field: same names, types, defaults and ranges. They are declared
again rather than moved to `sample_rag_app.runtime` because the simulator's model also
holds the app's vector-store and telemetry faults and its strict partial body is built by
the pipeline's `partial` module; moving all of it is the lead's wiring step (issue 20
item 2). tests/unit/sample_rag_app/services/provider/test_provider_contract.py fails when
the two declarations drift apart. Only the HTTP outcome differs: an injected error is
OpenAI's 500, an outage its 503, a timeout a call held past the client's timeout.

Every random draw comes from one `random.Random(PROVIDER_SEED)`, so a run's faults are
reproducible; the windows (outage, latency spike) are measured on the monotonic clock.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, cast

import annotated_types
from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

#: What an injected fault does to a call: the `kind` label of provider_faults_injected_total.
FaultKind = Literal["rate_limited", "llm_timeout", "llm_error", "outage", "latency"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "rate_limited",
    "llm_timeout",
    "llm_error",
    "outage",
    "latency",
)


class ProviderFaults(BaseModel):
    """The rates and switches in force (PROVIDER_FAULTS__<FIELD> at start-up)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    llm_error_rate: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Fraction of calls that fail with OpenAI's 500 server_error. Default "
        "0.01, the simulator's: the course's baseline of 0.5-2 % failed queries.",
    )
    llm_timeout_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction of calls held for PROVIDER_TIMEOUT_HOLD_SECONDS, then a 504. "
        "Default 0.",
    )
    rate_limit_error_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction of calls rejected with a 429 and retry-after. Default 0.",
    )
    added_latency_seconds: float = Field(
        0.0, ge=0, le=60, description="Extra seconds added to every call. Default 0."
    )
    rate_limit_consumed_percent: float = Field(
        0.0,
        ge=0,
        le=100,
        description="Percent of the rate limit used by other clients of the same key: "
        "lowers x-ratelimit-remaining-* and the calls admitted. Default 0.",
    )
    slow_call_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction of calls that take slow_call_seconds longer. Default 0.",
    )
    slow_call_seconds: float = Field(
        2.0, ge=0, le=60, description="Extra seconds of each call slow_call_rate picks."
    )


class ProviderFaultWindows(BaseModel):
    """Faults that start when set and last a while (admin API only)."""

    llm_outage_seconds: float = Field(
        gt=0, le=3600, description="From now on, every call is a 503 for this many seconds."
    )
    latency_spike_seconds: float = Field(
        ge=0,
        le=60,
        description="Extra seconds per call during the spike (set together with "
        "latency_spike_duration_seconds).",
    )
    latency_spike_duration_seconds: float = Field(
        gt=0, le=3600, description="How long the latency spike lasts from now, in seconds."
    )


class ProviderFaultStatus(ProviderFaults):
    """The faults in force, with what is left of the outage and the latency spike."""

    llm_outage_remaining_seconds: float = 0.0
    latency_spike_seconds: float = 0.0
    latency_spike_remaining_seconds: float = 0.0


#: Every field a PUT /admin/faults may change.
CHANGEABLE: dict[str, FieldInfo] = {
    **ProviderFaults.model_fields,
    **ProviderFaultWindows.model_fields,
}


def allowed_range(field: FieldInfo) -> str:
    """The field's allowed values in words, e.g. ``a number from 0 to 1``."""
    lower = upper = ""
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            lower = f"at least {item.ge:g}"
        elif isinstance(item, annotated_types.Gt):
            lower = f"greater than {item.gt:g}"
        elif isinstance(item, annotated_types.Le):
            upper = f"at most {item.le:g}"
    return "a number " + " and ".join(part for part in (lower, upper) if part)


def _in_range(field: FieldInfo, value: float) -> bool:
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge) and not value >= cast(float, item.ge):
            return False
        if isinstance(item, annotated_types.Gt) and not value > cast(float, item.gt):
            return False
        if isinstance(item, annotated_types.Le) and not value <= cast(float, item.le):
            return False
    return True


def check_change(body: Any) -> tuple[dict[str, float], list[str]]:
    """The fields of a PUT body and the problems with it: an object of known fields, each
    a JSON number (not a string, not a boolean) within its range, the spike's two fields
    together."""
    if not isinstance(body, dict):
        return {}, ["the body must be a JSON object of fault fields"]
    problems = []
    change: dict[str, float] = {}
    for name, value in body.items():
        field = CHANGEABLE.get(name)
        if field is None:
            problems.append(
                f"unknown field {name!r}; known fields: {', '.join(sorted(CHANGEABLE))}"
            )
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ) or not _in_range(field, float(value)):
            problems.append(f"{name} must be {allowed_range(field)}, got {value!r}")
        else:
            change[name] = float(value)
    if ("latency_spike_seconds" in body) != ("latency_spike_duration_seconds" in body):
        problems.append(
            "latency_spike_seconds and latency_spike_duration_seconds must be set together"
        )
    return change, problems


class ProviderFaultInjector:
    """Holds the faults in force and draws the random ones from one seeded generator."""

    def __init__(
        self,
        defaults: ProviderFaults,
        rng: random.Random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._defaults = defaults
        self._config = defaults
        self._rng = rng
        self._clock = clock
        self._lock = threading.Lock()
        self._outage_until = -math.inf
        self._spike_until = -math.inf
        self._spike_seconds = 0.0

    @property
    def config(self) -> ProviderFaults:
        return self._config

    def status(self) -> ProviderFaultStatus:
        """The faults in force and the time left of the outage and the latency spike."""
        now = self._clock()
        spike_left = max(0.0, self._spike_until - now)
        return ProviderFaultStatus(
            **self._config.model_dump(),
            llm_outage_remaining_seconds=round(max(0.0, self._outage_until - now), 3),
            latency_spike_seconds=self._spike_seconds if spike_left > 0 else 0.0,
            latency_spike_remaining_seconds=round(spike_left, 3),
        )

    def update(self, change: dict[str, float]) -> ProviderFaultStatus:
        """Apply a change `check_change` accepted; return the new status."""
        values = dict(change)
        outage = values.pop("llm_outage_seconds", None)
        spike = values.pop("latency_spike_seconds", None)
        duration = values.pop("latency_spike_duration_seconds", None)
        with self._lock:
            self._config = ProviderFaults.model_validate(self._config.model_dump() | values)
            now = self._clock()
            if outage is not None:
                self._outage_until = now + outage
            if spike is not None and duration is not None:
                self._spike_seconds, self._spike_until = spike, now + duration
        return self.status()

    def reset(self) -> ProviderFaultStatus:
        """Back to the start-up faults; end the outage and the latency spike."""
        with self._lock:
            self._config = self._defaults
            self._outage_until = self._spike_until = -math.inf
            self._spike_seconds = 0.0
        return self.status()

    def outage(self) -> bool:
        """True while an injected outage lasts."""
        return self._clock() < self._outage_until

    def random(self) -> float:
        """One draw of the seeded generator."""
        with self._lock:
            return self._rng.random()

    def lognormal(self, median: float, sigma: float) -> float:
        """One lognormal draw of the seeded generator (the base latency)."""
        with self._lock:
            return self._rng.lognormvariate(math.log(median), sigma)

    def added_latency(self) -> float:
        """Seconds a call is delayed by the faults: the added latency, any spike, and
        slow_call_seconds for the share of calls slow_call_rate picks."""
        config = self._config
        extra = config.added_latency_seconds
        if self._clock() < self._spike_until:
            extra += self._spike_seconds
        if config.slow_call_rate > 0 and self.random() < config.slow_call_rate:
            extra += config.slow_call_seconds
        return extra

    def draw(self) -> Literal["rate_limited", "llm_timeout", "llm_error"] | None:
        """Whether this call fails, and how, from one draw; the rates add up."""
        config = self._config
        draw = self.random()
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
