"""The experiment's record: exact client figures, an honest verdict, three files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from experiment_fakes import FakeApp, FakeClock

from lab.baseline.model import REQUESTS_FOR_TARGET_CLAIM
from lab.experiment.profiles import FULL, PROFILES, SHORT, FaultEvent, Profile, Scale
from lab.experiment.report import (
    ClientFigures,
    Comparison,
    render_markdown,
    render_summary,
    verdict,
    write_outputs,
)
from lab.experiment.runner import Outcome, run_experiment
from lab.spec.rag import TARGET_ERROR_RATE_AFTER


def outcomes(errors: int, requests: int) -> list[Outcome]:
    return [
        Outcome(float(i), 502 if i < errors else 200, None if i < errors else "primary",
                "llm_error" if i < errors else None, 0.001 * (i + 1), 0.0 if i < errors else 0.0002,
                False)
        for i in range(requests)
    ]  # fmt: skip


def test_client_figures_are_exact_counts_and_nearest_rank_percentiles() -> None:
    """Latencies 1..1000 ms: p95 is 950 ms; the cost per answer leaves the errors out."""
    figures = ClientFigures.of(outcomes(6, 1000), seconds=100)
    assert (figures.requests, figures.errors) == (1000, 6)
    assert figures.error_rate_percent == 0.6
    assert figures.p95_latency_seconds == pytest.approx(0.95)
    assert figures.cost_per_answered_query_usd == pytest.approx(0.0002)
    assert figures.answers_by_level["primary"] == 994
    assert figures.errors_by_type == {"llm_error": 6}


def test_verdict_distinguishes_shown_met_and_not_met() -> None:
    """0/3000 shows the target (< 0.1 %); 0/400 only meets it; 5/3000 misses it."""
    full, target = FULL.requests_per_arm, TARGET_ERROR_RATE_AFTER
    shown = verdict(ClientFigures.of(outcomes(0, full), 1))
    assert shown.shown
    assert f"is below {target} %" in shown.text
    short = verdict(ClientFigures.of(outcomes(0, SHORT.requests_per_arm), 1))
    assert short.met
    assert not short.shown
    assert f"≥ {REQUESTS_FOR_TARGET_CLAIM} requests" in short.text
    missed = verdict(ClientFigures.of(outcomes(math.ceil(2 * full * target / 100), full), 1))
    assert not missed.met
    assert "not met" in missed.text


def harsh_run() -> Comparison:
    clock = FakeClock()
    profile = Profile(
        "harsh-ish",
        "an outage",
        events=(FaultEvent(0.25, {"llm_outage_seconds": 20.0}, "outage", 20),),
    )
    return Comparison.of(
        run_experiment(FakeApp(clock), profile, Scale(300, 3.0), clock=clock, run_id="abc")
    )


def test_outputs_are_json_markdown_and_a_png(tmp_path: Path) -> None:
    """The three files exist; the JSON names both sources and keeps both arms' configs."""
    paths = write_outputs(harsh_run(), tmp_path)
    assert [p.name for p in paths] == ["experiment.json", "experiment.md", "experiment.png"]
    body = json.loads(paths[0].read_text())
    assert [arm["name"] for arm in body["arms"]] == ["off", "on"]
    assert body["arms"][1]["resilience"]["enabled"] is True
    assert body["sources"]["client"].startswith("the experiment's own requests")
    assert body["arms"][0]["client"]["errors"] > body["arms"][1]["client"]["errors"]
    assert paths[2].read_bytes()[:4] == b"\x89PNG"


def test_markdown_and_summary_state_the_verdict_and_the_fault_events() -> None:
    """The Markdown opens with the verdict, lists the outage and the degraded share."""
    comparison = harsh_run()
    text = render_markdown(comparison)
    assert text.startswith("# Resilience experiment: profile `harsh-ish`")
    assert "**Verdict (client-side counts of the 'on' arm):**" in text
    assert "at 25 s: outage for 20 s" in text
    assert "| answered by secondary |" in text
    summary = render_summary(comparison)
    assert "degraded answers" in summary
    assert "target met as observed, not shown" in summary


def test_the_baseline_profile_has_no_events_and_harsh_has_the_outage_and_spike() -> None:
    """The profile names the contract's fault fields: llm_outage_seconds, the spike pair."""
    assert PROFILES["baseline"].events == ()
    fields = {k for event in PROFILES["harsh"].events for k in event.faults}
    assert fields == {
        "llm_outage_seconds",
        "latency_spike_seconds",
        "latency_spike_duration_seconds",
    }
