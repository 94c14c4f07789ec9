"""The experiment's record: figures per arm, the verdict, and JSON, Markdown and a PNG.

Two sources, kept apart and named in every output:
- client: the experiment's own requests, counted exactly as they were answered (status,
  answer level, latency on the runner's clock, cost from the response). The verdict is
  taken from these: they are exactly the seeded traffic, nothing else.
- server: the app's counters over the arm's span (Prometheus on the live lab, read from
  the counters' raw samples; /metrics in-process). On the live lab they include the
  loadgen's traffic during the arm; they are also the only source of retries.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lab.baseline.model import REQUESTS_FOR_TARGET_CLAIM, Baseline
from lab.baseline.report import (
    COMPARISON_COLORS,
    draw_comparison,
    draw_error_band,
    draw_latency_slo,
    pyplot,
)
from lab.experiment.runner import ArmRun, ExperimentRun, Outcome
from lab.kit import confidence
from lab.kit.formatting import figure, milliseconds
from lab.spec.rag import (
    ANSWER_LEVELS,
    DEGRADED_LEVELS,
    EXPECTED_ERROR_RATE_BEFORE,
    TARGET_ERROR_RATE_AFTER,
)

#: Colours of the answer levels in the chart, apart from the arms' orange and blue.
LEVEL_COLORS = {
    "cache": "#9ecae1",
    "primary": "#3182bd",
    "secondary": "#a1d99b",
    "stale_cache": "#fdd0a2",
    "extractive": "#bcbddc",
    "error": "#de2d26",
}
JSON_NAME = "experiment.json"
MARKDOWN_NAME = "experiment.md"
CHART_NAME = "experiment.png"


def _percentile(sorted_values: list[float], quantile: float) -> float | None:
    """Nearest-rank percentile of exact values (no buckets)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(quantile * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class ClientFigures:
    """An arm's figures from its own requests, exact."""

    requests: int
    errors: int
    error_rate_percent: float
    error_rate_low_percent: float
    error_rate_high_percent: float
    error_rate_upper_bound_percent: float
    p50_latency_seconds: float | None
    p95_latency_seconds: float | None
    p99_latency_seconds: float | None
    cost_usd: float
    cost_per_answered_query_usd: float | None
    answers_by_level: dict[str, int]
    errors_by_type: dict[str, int]
    seconds: float

    @classmethod
    def of(cls, outcomes: list[Outcome], seconds: float) -> ClientFigures:
        requests = len(outcomes)
        errors = sum(o.is_error for o in outcomes)
        answered = [o for o in outcomes if o.status == 200]
        latencies = sorted(o.latency_seconds for o in outcomes)
        bounds = confidence.interval(errors, requests)
        cost = sum(o.cost_usd for o in outcomes)
        levels = Counter(o.answer_level for o in answered if o.answer_level)
        return cls(
            requests=requests,
            errors=errors,
            error_rate_percent=100 * errors / requests,
            error_rate_low_percent=100 * bounds.low,
            error_rate_high_percent=100 * bounds.high,
            error_rate_upper_bound_percent=100 * confidence.upper_bound(errors, requests),
            p50_latency_seconds=_percentile(latencies, 0.50),
            p95_latency_seconds=_percentile(latencies, 0.95),
            p99_latency_seconds=_percentile(latencies, 0.99),
            cost_usd=cost,
            cost_per_answered_query_usd=cost / len(answered) if answered else None,
            answers_by_level={level: levels.get(level, 0) for level in _levels(levels)},
            errors_by_type=dict(Counter(o.error or "" for o in outcomes if o.is_error)),
            seconds=seconds,
        )

    def share_percent(self, level: str) -> float:
        """Share of all requests answered at `level`."""
        return 100 * self.answers_by_level.get(level, 0) / self.requests if self.requests else 0.0

    def as_baseline(self, label: str) -> Baseline:
        """The same figures as a `Baseline`, to draw with the baseline charts."""
        return Baseline(
            window=label,
            measured_at="",
            error_rate_percent=self.error_rate_percent,
            p50_latency_seconds=self.p50_latency_seconds,
            p95_latency_seconds=self.p95_latency_seconds,
            p99_latency_seconds=self.p99_latency_seconds,
            requests=self.requests,
            errors=self.errors,
            error_rate_low_percent=self.error_rate_low_percent,
            error_rate_high_percent=self.error_rate_high_percent,
            cost_per_answered_query_usd=self.cost_per_answered_query_usd,
        )


def _levels(seen: Counter[str]) -> list[str]:
    return [*ANSWER_LEVELS, *sorted(str(k) for k in seen if k not in ANSWER_LEVELS)]


@dataclass(frozen=True)
class Verdict:
    """The course's target on the "on" arm: met as observed, and shown at 95 % or not."""

    met: bool
    shown: bool
    text: str


def verdict(on: ClientFigures) -> Verdict:
    target = TARGET_ERROR_RATE_AFTER
    met = on.error_rate_percent < target
    shown = on.error_rate_upper_bound_percent < target
    observed = f"{on.errors} errors in {on.requests} requests ({on.error_rate_percent:.3f} %)"
    if shown:
        text = (
            f"target met and shown: {observed}; the 95 % upper bound "
            f"{on.error_rate_upper_bound_percent:.3g} % is below {target} %"
        )
    elif met:
        text = (
            f"target met as observed, not shown: {observed}, but {on.requests} requests "
            f"cannot show < {target} % (95 % upper bound {on.error_rate_upper_bound_percent:.3g}"
            f" %; with no errors that takes ≥ {REQUESTS_FOR_TARGET_CLAIM} requests)"
        )
    else:
        text = f"target not met: {observed}, the course's target is < {target} %"
    return Verdict(met, shown, text)


def band_note(off: ClientFigures) -> str:
    low, high = EXPECTED_ERROR_RATE_BEFORE
    rate = off.error_rate_percent
    where = "within" if low <= rate <= high else ("below" if rate < low else "above")
    return f"off arm {rate:.2f} %: {where} the course's {low}-{high} % band"


@dataclass(frozen=True)
class Comparison:
    """Everything the outputs show, computed once."""

    run: ExperimentRun
    client: dict[str, ClientFigures]
    verdict: Verdict

    @classmethod
    def of(cls, run: ExperimentRun) -> Comparison:
        client = {arm.name: ClientFigures.of(arm.outcomes, arm.seconds) for arm in run.arms}
        return cls(run, client, verdict(client["on"]))

    def to_json(self) -> dict[str, Any]:
        run = self.run
        return {
            "profile": {
                "name": run.profile.name,
                "description": run.profile.description,
                "faults": dict(run.profile.faults),
                "events": run.events,
            },
            "scale": asdict(run.scale),
            "seed": run.seed,
            "run_id": run.run_id,
            "verdict": asdict(self.verdict),
            "sources": {
                "client": "the experiment's own requests, counted exactly",
                "server": run.server_source,
            },
            "arms": [
                {
                    "name": arm.name,
                    "started_at": arm.started_at,
                    "resilience": arm.resilience,
                    "faults": arm.faults,
                    "client": asdict(self.client[arm.name]),
                    "server": arm.server.to_json() if arm.server else None,
                }
                for arm in run.arms
            ],
        }


def render_markdown(comparison: Comparison) -> str:
    run = comparison.run
    off, on = comparison.client["off"], comparison.client["on"]
    rows = [
        ("requests", str(off.requests), str(on.requests)),
        ("errors", str(off.errors), str(on.errors)),
        ("error rate", f"{off.error_rate_percent:.3f} %", f"{on.error_rate_percent:.3f} %"),
        ("error rate, 95 % interval", _interval(off), _interval(on)),
        *(
            (f"{name} latency", _ms(getattr(off, attr)), _ms(getattr(on, attr)))
            for name, attr in (
                ("p50", "p50_latency_seconds"),
                ("p95", "p95_latency_seconds"),
                ("p99", "p99_latency_seconds"),
            )
        ),
        (
            "cost per answered query",
            _usd(off.cost_per_answered_query_usd),
            _usd(on.cost_per_answered_query_usd),
        ),
        *(
            (
                f"answered by {level}",
                f"{off.share_percent(level):.1f} %",
                f"{on.share_percent(level):.1f} %",
            )
            for level in off.answers_by_level
        ),
        ("errors by type", _types(off), _types(on)),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    server_rows = _server_table(run.arms)
    events = "".join(
        f"- at {e['at_seconds']:.0f} s: {e['what']} for {e['lasts_seconds']:g} s "
        f"(`{json.dumps(e['faults'])}`)\n"
        for e in run.events
    )
    return (
        f"# Resilience experiment: profile `{run.profile.name}`\n\n"
        f"**Verdict (client-side counts of the 'on' arm):** {comparison.verdict.text}.\n"
        f"Before: {band_note(off)}.\n\n"
        f"Profile: {run.profile.description}. {run.scale.requests_per_arm} requests per arm "
        f"at {run.scale.rate_per_second:g} req/s (Poisson, seed {run.seed}, the loadgen's "
        f"question mix), run `{run.run_id}`; the off arm ran first, then the same traffic "
        "with resilience switched on through the admin API.\n\n"
        + (f"Fault events in each arm:\n\n{events}\n" if events else "")
        + "## The experiment's own requests (client-side, exact)\n\n"
        "| figure | resilience off | resilience on |\n|---|---|---|\n"
        f"{table}\n\n"
        "Latency is measured by the client around each request; errors are HTTP 5xx or no "
        "answer (a degraded answer is an answer).\n"
        + (
            f"\n## The app's counters over each arm (server-side)\n\n"
            f"Source: {run.server_source}.\n\n{server_rows}\n"
            if server_rows
            else ""
        )
    )


def _server_table(arms: list[ArmRun]) -> str:
    servers = {arm.name: arm.server for arm in arms if arm.server is not None}
    if len(servers) < 2:
        return ""
    off, on = servers["off"], servers["on"]
    rows = [
        ("span", f"{off.span_seconds or 0:.0f} s", f"{on.span_seconds or 0:.0f} s"),
        ("requests", str(off.requests), str(on.requests)),
        ("errors", str(off.errors), str(on.errors)),
        ("error rate", _pct(off.error_rate_percent), _pct(on.error_rate_percent)),
        ("p50 latency", _ms(off.p50_latency_seconds), _ms(on.p50_latency_seconds)),
        ("p95 latency", _ms(off.p95_latency_seconds), _ms(on.p95_latency_seconds)),
        ("p99 latency", _ms(off.p99_latency_seconds), _ms(on.p99_latency_seconds)),
        (
            "cost per answered query",
            _usd(off.cost_per_answered_query_usd),
            _usd(on.cost_per_answered_query_usd),
        ),
        ("retries per request", _num(off.retries_per_request), _num(on.retries_per_request)),
        ("answers per level", _levels_text(off), _levels_text(on)),
        ("cache hit rate", _pct(off.cache_hit_rate_percent), _pct(on.cache_hit_rate_percent)),
    ]
    notes = "".join(f"- ⚠ {arm}: {note}\n" for arm, b in servers.items() for note in b.warnings)
    return (
        "| figure | resilience off | resilience on |\n|---|---|---|\n"
        + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
        + ("\n\n" + notes.rstrip("\n") if notes else "")
        + "\n\nLatency percentiles here are interpolated from the histogram's buckets."
    )


def render_summary(comparison: Comparison) -> str:
    """A few lines for the terminal: both arms' key figures and the verdict."""
    lines = [f"{'client-side':<26}{'resilience off':>16}{'resilience on':>16}"]
    off, on = comparison.client["off"], comparison.client["on"]
    for label, a, b in (
        ("requests", str(off.requests), str(on.requests)),
        ("errors", str(off.errors), str(on.errors)),
        ("error rate", f"{off.error_rate_percent:.3f} %", f"{on.error_rate_percent:.3f} %"),
        ("p95 latency", _ms(off.p95_latency_seconds), _ms(on.p95_latency_seconds)),
        ("p99 latency", _ms(off.p99_latency_seconds), _ms(on.p99_latency_seconds)),
        (
            "cost per answered query",
            _usd(off.cost_per_answered_query_usd),
            _usd(on.cost_per_answered_query_usd),
        ),
        ("degraded answers", f"{_degraded(off):.1f} %", f"{_degraded(on):.1f} %"),
    ):
        lines.append(f"{label:<26}{a:>16}{b:>16}")
    mark = "✓" if comparison.verdict.met else "✗"
    lines.append(f"{mark} {comparison.verdict.text}")
    lines.append(f"  before: {band_note(off)}")
    return "\n".join(lines)


def _degraded(figures: ClientFigures) -> float:
    return sum(figures.share_percent(level) for level in DEGRADED_LEVELS)


def write_outputs(comparison: Comparison, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path, png_path = (
        out_dir / JSON_NAME,
        out_dir / MARKDOWN_NAME,
        out_dir / CHART_NAME,
    )
    json_path.write_text(
        json.dumps(comparison.to_json(), indent=2) + "\n", encoding="utf-8", newline="\n"
    )
    md_path.write_text(render_markdown(comparison), encoding="utf-8", newline="\n")
    write_chart(comparison, png_path)
    return [json_path, md_path, png_path]


def _binned(outcomes: list[Outcome], width: float) -> tuple[list[float], list[float], list[float]]:
    """Per time bin: its middle (s), error rate (%) and p95 latency (s)."""
    bins: dict[int, list[Outcome]] = {}
    for outcome in outcomes:
        bins.setdefault(int(outcome.offset // width), []).append(outcome)
    middles, rates, p95s = [], [], []
    for index in sorted(bins):
        group = bins[index]
        middles.append((index + 0.5) * width)
        rates.append(100 * sum(o.is_error for o in group) / len(group))
        p95s.append(_percentile(sorted(o.latency_seconds for o in group), 0.95) or 0.0)
    return middles, rates, p95s


def write_chart(comparison: Comparison, path: Path) -> None:
    """Both arms on the same axes: over time (error rate, p95), then the summary figures."""
    plt = pyplot()
    run = comparison.run
    width = max(5.0, run.scale.seconds / 40)
    figure, axes = plt.subplot_mosaic(
        [
            ["errors_t", "errors_t", "latency_t", "latency_t"],
            ["errors", "latency", "cost", "levels"],
        ],
        figsize=(15, 9),
    )
    labels = [f"resilience {arm.name}" for arm in run.arms]
    for i, arm in enumerate(run.arms):
        middles, rates, p95s = _binned(arm.outcomes, width)
        color = COMPARISON_COLORS[i]
        axes["errors_t"].plot(middles, rates, color=color, label=labels[i], marker=".")
        axes["latency_t"].plot(middles, p95s, color=color, label=labels[i], marker=".")
    for name in ("errors_t", "latency_t"):
        for event in run.events:
            start = event["at_seconds"]
            axes[name].axvspan(start, start + event["lasts_seconds"], color="tab:red", alpha=0.1)
        axes[name].set_xlabel("seconds into the arm (shaded: fault events)")
        axes[name].grid(alpha=0.3)
    draw_error_band(axes["errors_t"])
    axes["errors_t"].set_yscale("symlog", linthresh=0.1)
    axes["errors_t"].set_ylim(bottom=0)
    axes["errors_t"].set_ylabel(f"error rate per {width:.0f} s (%)")
    axes["errors_t"].legend(fontsize=8, loc="upper right")
    draw_latency_slo(axes["latency_t"])
    axes["latency_t"].set_ylabel(f"p95 latency per {width:.0f} s (s)")
    axes["latency_t"].set_ylim(bottom=0)
    axes["latency_t"].legend(fontsize=8, loc="upper right")
    figures = [comparison.client[arm.name] for arm in run.arms]
    draw_comparison(
        axes["errors"],
        axes["latency"],
        axes["cost"],
        [f.as_baseline(arm.name) for f, arm in zip(figures, run.arms, strict=True)],
        labels,
    )
    bottom = [0.0] * len(figures)
    stacks = [
        (level, [f.share_percent(level) for f in figures]) for level in figures[0].answers_by_level
    ]
    stacks.append(("error", [f.error_rate_percent for f in figures]))
    for level, shares in stacks:
        if any(shares):
            color = LEVEL_COLORS.get(level, "tab:gray")
            axes["levels"].bar(labels, shares, bottom=bottom, label=level, color=color)
            bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
    axes["levels"].set_ylabel("share of requests, by answer level (%)")
    axes["levels"].set_ylim(0, 100)
    axes["levels"].legend(fontsize=8, loc="lower right")
    figure.suptitle(
        f"Experiment '{run.profile.name}', {run.scale.requests_per_arm} requests per arm "
        f"(client-side counts): {comparison.verdict.text.split(':')[0]}"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _interval(figures: ClientFigures) -> str:
    return f"{figures.error_rate_low_percent:.3f}-{figures.error_rate_high_percent:.3f} %"


def _types(figures: ClientFigures) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(figures.errors_by_type.items())) or "none"


def _levels_text(baseline: Baseline) -> str:
    return ", ".join(f"{k} {v}" for k, v in baseline.answers_by_level.items()) or "n/a"


def _ms(seconds: float | None) -> str:
    return milliseconds(seconds)


def _usd(value: float | None) -> str:
    return figure(value, "${:.6f}")


def _pct(value: float | None) -> str:
    return figure(value, "{:.3f} %")


def _num(value: float | None) -> str:
    return figure(value, "{:.3f}")
