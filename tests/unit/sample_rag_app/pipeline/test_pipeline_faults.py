"""Fault injection: seeded draws, partial updates, reset, and the default error rate."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from sample_rag_app.pipeline.faults import FaultConfig, FaultInjector, FaultUpdate
from sample_rag_app.settings import Settings


def test_no_fault_rates_means_no_faults() -> None:
    """With every rate at 0, no call is faulted."""
    injector = FaultInjector(FaultConfig(), random.Random(1))
    assert {injector.draw_llm_fault() for _ in range(1000)} == {None}


def test_rate_one_faults_every_call() -> None:
    """An error rate of 1 fails every call with llm_error."""
    injector = FaultInjector(FaultConfig(llm_error_rate=1.0), random.Random(1))
    assert {injector.draw_llm_fault() for _ in range(100)} == {"llm_error"}


def test_seeded_draws_are_reproducible() -> None:
    """Two injectors with the same seed make the same decisions."""
    config = FaultConfig(llm_error_rate=0.2, llm_timeout_rate=0.1, rate_limit_error_rate=0.1)
    first = FaultInjector(config, random.Random(42))
    second = FaultInjector(config, random.Random(42))
    assert [first.draw_llm_fault() for _ in range(200)] == [
        second.draw_llm_fault() for _ in range(200)
    ]


def test_rates_add_up_and_are_respected() -> None:
    """Each fault occurs at about its configured rate (seeded, 20 000 draws)."""
    config = FaultConfig(llm_error_rate=0.2, llm_timeout_rate=0.1, rate_limit_error_rate=0.05)
    injector = FaultInjector(config, random.Random(3))
    counts = Counter(injector.draw_llm_fault() for _ in range(20_000))
    assert counts["llm_error"] / 20_000 == pytest.approx(0.2, abs=0.01)
    assert counts["llm_timeout"] / 20_000 == pytest.approx(0.1, abs=0.01)
    assert counts["rate_limited"] / 20_000 == pytest.approx(0.05, abs=0.01)


def test_update_changes_only_the_given_fields_and_reset_restores_defaults() -> None:
    """A partial update keeps the other fields; reset returns to the defaults."""
    defaults = FaultConfig(llm_error_rate=0.01)
    injector = FaultInjector(defaults, random.Random(1))
    updated = injector.update(FaultUpdate(vector_store_down=True, added_latency_seconds=2))
    assert updated == FaultConfig(
        llm_error_rate=0.01, vector_store_down=True, added_latency_seconds=2.0
    )
    assert injector.reset() == defaults
    assert injector.config == defaults


def test_default_settings_give_the_course_baseline_error_rate() -> None:
    """With the default settings and a 40 % cache hit rate, 0.5-2 % of queries fail."""
    settings = Settings()
    config = FaultConfig(
        llm_error_rate=settings.fault_llm_error_rate,
        llm_timeout_rate=settings.fault_llm_timeout_rate,
        rate_limit_error_rate=settings.fault_rate_limit_error_rate,
    )
    injector = FaultInjector(config, random.Random(11))
    rng = random.Random(12)
    queries = 50_000
    failures = sum(
        1 for _ in range(queries) if rng.random() >= 0.4 and injector.draw_llm_fault() is not None
    )
    assert 0.005 <= failures / queries <= 0.02
    assert not settings.fault_vector_store_down
    assert settings.fault_added_latency_seconds == 0
