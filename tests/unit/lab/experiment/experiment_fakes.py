"""A fake app for the runner's unit tests: admin state, scripted answers, a virtual clock."""

from __future__ import annotations

import zlib
from typing import Any

from lab.kit.clients.app import QueryReply
from lab.kit.clients.base import ServiceUnreachable

DEFAULT_FAULTS = {"llm_error_rate": 0.01, "llm_outage_remaining_seconds": 0.0}
DEFAULT_RESILIENCE = {"enabled": False, "retries": True, "retry_max_attempts": 3}


class FakeClock:
    """Time passes only when someone sleeps."""

    def __init__(self) -> None:
        self.time = 1000.0

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += seconds


class FakeApp:
    """Answers every 50th question (by hash) with a 502 unless resilience is on, fails all
    queries during an outage unless resilience is on (then answers from 'secondary'),
    and remembers every admin call with the time it was made."""

    def __init__(self, clock: FakeClock, *, unreachable_every: int = 0) -> None:
        self.clock = clock
        self.fault_state: dict[str, Any] = dict(DEFAULT_FAULTS)
        self.resilience_state: dict[str, Any] = dict(DEFAULT_RESILIENCE)
        self.outage_until = 0.0
        self.questions: list[str] = []
        self.admin_calls: list[tuple[float, str, dict[str, Any]]] = []
        self.unreachable_every = unreachable_every
        self.fail_after: int | None = None

    def query(self, question: str, *, correlation_id: str) -> QueryReply:
        self.questions.append(question)
        if self.fail_after is not None and len(self.questions) > self.fail_after:
            raise RuntimeError("the fake app broke")
        n = len(self.questions)
        if self.unreachable_every and n % self.unreachable_every == 0:
            raise ServiceUnreachable("refused", compose_service="app")
        self.clock.sleep(0.1)
        on = self.resilience_state["enabled"]
        in_outage = self.clock.now() < self.outage_until
        unlucky = zlib.crc32(question.encode()) % 50 == 0
        if (in_outage or unlucky) and not on:
            return QueryReply(502, correlation_id, {"error": "llm_error"})
        level = "secondary" if in_outage else "primary"
        cost = 0.0001 if level == "primary" else 0.00002
        return QueryReply(
            200, correlation_id, {"answer_level": level, "cost_usd": cost, "degraded": in_outage}
        )

    def _record(self, what: str, fields: dict[str, Any]) -> None:
        self.admin_calls.append((self.clock.now(), what, dict(fields)))

    def faults(self) -> dict[str, Any]:
        remaining = max(0.0, self.outage_until - self.clock.now())
        return {**self.fault_state, "llm_outage_remaining_seconds": remaining}

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        self._record("set_faults", faults)
        if any(k.endswith("_remaining_seconds") for k in faults):
            raise ValueError("read-only field sent back")
        if "llm_outage_seconds" in faults:
            self.outage_until = self.clock.now() + faults.pop("llm_outage_seconds")
        self.fault_state.update(faults)
        return self.faults()

    def clear_faults(self) -> dict[str, Any]:
        self._record("clear_faults", {})
        self.fault_state = dict(DEFAULT_FAULTS)
        self.outage_until = 0.0
        return self.faults()

    def resilience(self) -> dict[str, Any]:
        return dict(self.resilience_state)

    def set_resilience(self, **fields: Any) -> dict[str, Any]:
        self._record("set_resilience", fields)
        self.resilience_state.update(fields)
        return self.resilience()
