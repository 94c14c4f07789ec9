"""Fault injection: seeded draws, partial updates, reset, and the default error rate."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from pydantic import ValidationError

from sample_rag_app.clock import VirtualClock
from sample_rag_app.pipeline.faults import FaultConfig, FaultInjector, FaultUpdate
from sample_rag_app.settings import Settings

#: Every rate at 0 (the default keeps a 1 % LLM error rate, the course's baseline).
NO_FAULTS = FaultConfig(llm_error_rate=0.0)


def test_no_fault_rates_means_no_faults() -> None:
    """With every rate at 0, no call is faulted."""
    injector = FaultInjector(NO_FAULTS, random.Random(1))
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
    expected = FaultConfig(llm_error_rate=0.01, vector_store_down=True, added_latency_seconds=2.0)
    assert FaultConfig(**updated.model_dump(include=set(FaultConfig.model_fields))) == expected
    assert injector.config == expected
    injector.reset()
    assert injector.config == defaults


def test_outage_fails_the_primary_for_its_duration_on_the_clock() -> None:
    """llm_outage_seconds starts an outage now; it ends after that many seconds."""
    clock = VirtualClock()
    injector = FaultInjector(NO_FAULTS, random.Random(1), clock)
    assert not injector.primary_outage()
    status = injector.update(FaultUpdate(llm_outage_seconds=30))
    assert status.llm_outage_remaining_seconds == 30
    clock.sleep(29.5)
    assert injector.primary_outage()
    assert injector.status().llm_outage_remaining_seconds == pytest.approx(0.5)
    clock.sleep(0.5)
    assert not injector.primary_outage()
    assert injector.status().llm_outage_remaining_seconds == 0


def test_latency_spike_adds_to_the_added_latency_while_it_lasts() -> None:
    """A latency spike adds its seconds to every primary call until its duration ends."""
    clock = VirtualClock()
    injector = FaultInjector(FaultConfig(added_latency_seconds=0.5), random.Random(1), clock)
    status = injector.update(
        FaultUpdate(latency_spike_seconds=2.0, latency_spike_duration_seconds=10)
    )
    assert (status.latency_spike_seconds, status.latency_spike_remaining_seconds) == (2.0, 10)
    assert injector.primary_added_latency() == 2.5
    clock.sleep(10)
    assert injector.primary_added_latency() == 0.5
    assert injector.status().latency_spike_seconds == 0


def test_reset_ends_the_outage_and_the_spike() -> None:
    """DELETE semantics: reset clears the outage and the latency spike at once."""
    injector = FaultInjector(NO_FAULTS, random.Random(1), VirtualClock())
    injector.update(
        FaultUpdate(
            llm_outage_seconds=60, latency_spike_seconds=1, latency_spike_duration_seconds=60
        )
    )
    status = injector.reset()
    assert status.llm_outage_remaining_seconds == status.latency_spike_remaining_seconds == 0
    assert not injector.primary_outage()
    assert injector.primary_added_latency() == 0


def test_a_spike_needs_both_its_size_and_its_duration() -> None:
    """latency_spike_seconds without latency_spike_duration_seconds (or the reverse) fails."""
    injector = FaultInjector(NO_FAULTS, random.Random(1), VirtualClock())
    with pytest.raises(ValueError, match="together"):
        injector.update(FaultUpdate(latency_spike_seconds=1.0))
    with pytest.raises(ValueError, match="together"):
        injector.update(FaultUpdate(latency_spike_duration_seconds=1.0))


@pytest.mark.parametrize(
    "body",
    [
        {"llm_error_rate": "0.5"},
        {"vector_store_down": "yes"},
        {"llm_outage_seconds": 0},
        {"llm_outage_seconds": 3601},
        {"latency_spike_seconds": 61, "latency_spike_duration_seconds": 1},
        {"no_such_fault": 1},
    ],
)
def test_fault_updates_are_strict(body: dict[str, object]) -> None:
    """Strings for numbers or booleans, values out of range and unknown fields are refused."""
    with pytest.raises(ValidationError):
        FaultUpdate.model_validate(body)


def test_default_settings_give_the_course_baseline_error_rate() -> None:
    """With the default settings and a 40 % cache hit rate, 0.5-2 % of queries fail."""
    settings = Settings()
    injector = FaultInjector(settings.faults, random.Random(11))
    rng = random.Random(12)
    queries = 50_000
    failures = sum(
        1 for _ in range(queries) if rng.random() >= 0.4 and injector.draw_llm_fault() is not None
    )
    assert 0.005 <= failures / queries <= 0.02
    assert not settings.faults.vector_store_down
    assert settings.faults.added_latency_seconds == 0
