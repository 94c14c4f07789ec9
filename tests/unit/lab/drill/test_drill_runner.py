"""Drills name real alerts and real faults, so a renamed alert or fault breaks a test,
not a learner's drill; and a drill that changes the resilience configuration puts the
previous one back whatever happens."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from lab.drill.runner import DRILLS, Drill, run_drill
from lab.kit.polling import Timeout
from lab.spec import SPEC
from lab.spec.model import duration_seconds
from sample_rag_app.pipeline.faults import FaultUpdate
from sample_rag_app.pipeline.resilience.config import ResilienceConfig, ResilienceUpdate
from sample_rag_app.services.loadgen.settings import LoadgenSettings

PREVIOUS = {"enabled": False, "retries": True, "admission_max_inflight": 16}


@pytest.mark.parametrize("name", list(DRILLS))
def test_drill_alert_is_in_the_spec(name: str) -> None:
    """Each drill waits for an alert the spec defines."""
    assert SPEC.alert(DRILLS[name].alert)


@pytest.mark.parametrize("name", list(DRILLS))
def test_drill_faults_are_accepted_by_the_app(name: str) -> None:
    """Each drill's faults validate against the app's admin API model."""
    FaultUpdate.model_validate(DRILLS[name].faults)


@pytest.mark.parametrize("name", [n for n, d in DRILLS.items() if d.resilience is not None])
def test_drill_resilience_settings_are_accepted_by_the_app(name: str) -> None:
    """Each drill's resilience fields validate against the app's strict admin update."""
    ResilienceUpdate.model_validate(DRILLS[name].resilience)


def test_load_shedding_drill_admits_less_than_the_app_does_by_default() -> None:
    """The drill's admission limits are far below the app's defaults, so loadgen overflows."""
    drill, defaults = DRILLS["load-shedding"], ResilienceConfig()
    assert drill.resilience is not None
    assert drill.resilience["admission_max_inflight"] < defaults.admission_max_inflight
    assert drill.resilience["admission_max_queue"] < defaults.admission_max_queue


#: The loadgen's traffic: a cache hit never calls the LLM, so it never meets an LLM fault.
LOADGEN = LoadgenSettings()


def _threshold(drill: Drill) -> float:
    alert = SPEC.alert(drill.alert)
    assert alert.threshold is not None, drill.alert
    return alert.threshold.value


def _error_share(drill: Drill) -> float:
    """The share of queries failing under the drill's LLM error rate, every repeat a hit."""
    return float(drill.faults["llm_error_rate"]) * (1 - LOADGEN.repeat_fraction)


def _burn_threshold() -> float:
    fast = SPEC.slo.windows[0]
    return fast.factor * (1 - SPEC.slo.target)


def _llm_slots_wanted(drill: Drill) -> float:
    """LLM calls in flight the loadgen's misses need on average (arrivals x call time)."""
    misses_per_second = LOADGEN.rate_per_second * (1 - LOADGEN.repeat_fraction)
    return misses_per_second * float(drill.faults["latency_spike_seconds"])


#: For each drill, whether its faults cross its alert's bound with the lab's own traffic.
CROSSES = {
    "high-error-rate": lambda d: 100 * _error_share(d) > _threshold(d),
    "error-budget-burn": lambda d: _error_share(d) > _burn_threshold(),
    "high-latency": lambda d: d.faults["added_latency_seconds"] > _threshold(d),
    "low-headroom": lambda d: 100 - d.faults["rate_limit_consumed_percent"] < _threshold(d),
    "llm-outage": lambda d: (
        d.faults["llm_outage_seconds"] > duration_seconds(SPEC.alert(d.alert).for_)
    ),
    # More slots wanted than admitted: the queue grows until requests are shed.
    "load-shedding": lambda d: (
        _llm_slots_wanted(d) > (d.resilience or {})["admission_max_inflight"]
    ),
}


def test_every_drill_has_its_crossing_checked() -> None:
    """A new drill needs its entry in CROSSES: no drill goes unchecked."""
    assert set(CROSSES) == set(DRILLS)


@pytest.mark.parametrize("name", list(DRILLS))
def test_drill_faults_cross_their_alerts_bound(name: str) -> None:
    """Each drill's faults, under the loadgen's default traffic, cross its alert's bound."""
    assert CROSSES[name](DRILLS[name])


def _numbers_of(drill: Drill) -> set[float]:
    """Every number a drill's description may state: its own settings and its alert's."""
    values = [*drill.faults.values(), *(drill.resilience or {}).values()]
    numbers = {float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)}
    numbers |= {round(n * 100, 6) for n in set(numbers)}  # shares stated as percentages
    alert = SPEC.alert(drill.alert)
    numbers.add(duration_seconds(alert.for_) / 60)
    if (t := alert.threshold) is not None:
        numbers |= {t.value, round(t.value * 100, 6), round(t.value * 1000, 6)}
    if alert.name.startswith(SPEC.slo.alert_prefix):
        fast = SPEC.slo.windows[0]
        numbers |= {fast.factor, SPEC.slo.target * 100}
        numbers |= {duration_seconds(w) / 60 for w in (fast.long, fast.short)}
        numbers |= {duration_seconds(w) / 3600 for w in (fast.long, fast.short)}
    return numbers


@pytest.mark.parametrize("name", list(DRILLS))
def test_drill_descriptions_state_only_their_own_and_spec_numbers(name: str) -> None:
    """No number in `lab drill --list` is retyped: each is a fault, a resilience setting or
    a value of the drill's alert in lab/spec."""
    drill = DRILLS[name]
    stated = {float(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", drill.what)}
    assert stated <= _numbers_of(drill), (drill.what, stated - _numbers_of(drill))


def test_drill_descriptions_follow_a_changed_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LoadShedding drill's text is built from the spec: its bound is the alert's."""
    alert = SPEC.alert("LoadShedding")
    assert alert.threshold is not None
    bound = alert.threshold.unit.human(alert.threshold.value)
    assert f"goes above {bound} for {alert.for_}" in DRILLS["load-shedding"].what
    assert "for 1m" in DRILLS["llm-outage"].what
    assert SPEC.alert("CircuitBreakerOpen").for_ == "1m"


def test_resilience_drills_switch_it_on_and_say_how_they_recover() -> None:
    """llm-outage and load-shedding switch resilience on; llm-outage awaits the breaker."""
    outage, shedding = DRILLS["llm-outage"], DRILLS["load-shedding"]
    assert outage.resilience == {"enabled": True}
    assert outage.recovery is not None
    assert 'service="llm", state="closed"' in outage.recovery.query
    assert shedding.resilience is not None
    assert shedding.resilience["enabled"] is True
    assert shedding.recovery is None
    assert all(DRILLS[n].resilience is None for n in ("high-error-rate", "low-headroom"))


# --- run_drill against fakes: the order of admin calls, and what happens on failure. ---


@dataclass
class Rule:
    name: str
    state: str


@dataclass
class FakeLab:
    """App, Prometheus and alert sink in one, recording every admin call in order but the
    read of the faults a drill's session snapshots (the defaults here: nothing to put back
    beyond clearing)."""

    fires: bool = True
    fail_on: str | None = None
    calls: list[str] = field(default_factory=list)
    faulty: bool = False
    config: dict[str, Any] = field(default_factory=lambda: dict(PREVIOUS))

    # the app's admin API
    def faults(self) -> dict[str, Any]:
        return {}

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        self.calls.append(f"set_faults {sorted(faults)}")
        if self.fail_on == "set_faults":
            raise KeyboardInterrupt
        self.faulty = True
        return faults

    def clear_faults(self) -> dict[str, Any]:
        self.calls.append("clear_faults")
        self.faulty = False
        return {}

    def resilience(self) -> dict[str, Any]:
        self.calls.append("resilience")
        return dict(self.config)

    def set_resilience(self, **fields: Any) -> dict[str, Any]:
        self.calls.append(f"set_resilience {fields}")
        self.config.update(fields)
        return dict(self.config)

    # Prometheus
    def rules(self) -> list[Rule]:
        return [Rule("CircuitBreakerOpen", "firing" if self.fires and self.faulty else "inactive")]

    def query(self, expr: str, *, at: datetime | None = None) -> list[Any]:
        self.calls.append("query recovery")
        return [] if self.faulty else [{"value": 1}]

    # the alert sink
    def alerts(
        self,
        *,
        alertname: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        if status == "resolved":
            self.calls.append("resolved?")
        return [{"status": status}]


def _run(lab: FakeLab, name: str = "llm-outage", timeout: float = 5) -> Any:
    return run_drill(
        DRILLS[name],
        app=lab,
        prometheus=lab,
        sink=lab,
        timeout_seconds=timeout,
        progress=lambda _line: None,
        poll_interval=0,
    )


def test_llm_outage_restores_the_previous_config_after_the_breaker_recovered() -> None:
    """Resilience on before the fault; previous config back only once the breaker closed,
    and before the wait for the resolved notification."""
    lab = FakeLab()
    report = _run(lab)
    assert lab.calls == [
        "clear_faults",
        "resilience",
        "set_resilience {'enabled': True}",
        "set_faults ['llm_outage_seconds']",
        "clear_faults",
        "query recovery",
        f"set_resilience {PREVIOUS}",
        "resolved?",
    ]
    assert lab.config == PREVIOUS
    assert report.restored_resilience == PREVIOUS
    assert report.seconds_to_recover is not None
    assert report.seconds_to_resolve is not None


def test_a_drill_that_times_out_still_clears_the_fault_and_restores_the_config() -> None:
    """When the alert never fires, the fault is cleared and the previous config restored."""
    lab = FakeLab(fires=False)
    with pytest.raises(Timeout, match="CircuitBreakerOpen to fire"):
        _run(lab, timeout=0)
    assert lab.calls[-2:] == ["clear_faults", f"set_resilience {PREVIOUS}"]
    assert lab.config == PREVIOUS


def test_an_interrupted_drill_restores_the_config() -> None:
    """Ctrl-C while the fault is being set still clears it and restores the config once."""
    lab = FakeLab(fail_on="set_faults")
    with pytest.raises(KeyboardInterrupt):
        _run(lab, name="load-shedding")
    assert lab.calls[-2:] == ["clear_faults", f"set_resilience {PREVIOUS}"]
    assert sum(c.startswith("set_resilience") for c in lab.calls) == 2


def test_drills_without_resilience_settings_leave_the_config_alone() -> None:
    """high-error-rate never reads or writes the resilience configuration."""
    lab = FakeLab()
    lab.rules = lambda: [Rule("HighErrorRate", "firing")]  # type: ignore[method-assign]
    _run(lab, name="high-error-rate")
    assert not any("resilience" in c for c in lab.calls)


def test_a_threshold_drill_times_each_step_and_asks_for_its_own_alert() -> None:
    """high-latency: fault set, its alert firing, notified, cleared, resolved: the three
    times in the report (no recovery step), and the sink asked for that alert only."""
    lab = FakeLab()
    lab.rules = lambda: [Rule("HighP95Latency", "firing" if lab.faulty else "inactive")]  # type: ignore[method-assign]
    asked: list[tuple[str | None, str | None, datetime | None]] = []
    answer = lab.alerts

    def alerts(**query: Any) -> list[dict[str, Any]]:
        asked.append((query.get("alertname"), query.get("status"), query.get("since")))
        return answer(**query)

    lab.alerts = alerts  # type: ignore[method-assign]
    report = _run(lab, name="high-latency")
    assert lab.calls == [
        "clear_faults",
        "set_faults ['added_latency_seconds']",
        "clear_faults",
        "resolved?",
    ]
    assert None not in (
        report.seconds_to_fire,
        report.seconds_to_notify,
        report.seconds_to_resolve,
    )
    assert report.seconds_to_recover is None
    assert {name for name, _, _ in asked} == {"HighP95Latency"}
    assert [status for _, status, _ in asked] == ["firing", "resolved"]
    assert all(
        since is not None and since >= report.started_at - timedelta(seconds=1)
        for *_, since in asked
    )
