"""`lab baseline` and `lab compare`: the before/after record of the resilience work.

A baseline is saved as JSON (for `lab compare`), Markdown (for a person or a pull
request) and a PNG chart of its span (what the dashboard showed), in one directory. The
charts draw the course's band (0.5-2 % errors before M2.4), its target (< 0.1 % after)
and the latency SLO from `lab.spec`, so a line is read against the numbers it must meet.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from lab.baseline.model import (
    NEEDS,
    Baseline,
    describe_error_rate,
    describe_target_claim,
    measure,
    scope_to_job,
)
from lab.kit.clients import PrometheusClient
from lab.kit.formatting import figure
from lab.spec.rag import (
    EXPECTED_ERROR_RATE_BEFORE,
    P95_LATENCY_SECONDS,
    SPEC,
    TARGET_ERROR_RATE_AFTER,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

JSON_NAME = "baseline.json"
FIGURES = {
    "error_rate_percent": ("error rate", "{:.2f} %"),
    "p50_latency_seconds": ("p50 latency", "{:.3f} s"),
    "p95_latency_seconds": ("p95 latency", "{:.3f} s"),
    "p99_latency_seconds": ("p99 latency", "{:.3f} s"),
    "cache_hit_rate_percent": ("cache hit rate", "{:.1f} %"),
    "cost_per_query_usd": ("cost per query", "${:.6f}"),
    "cost_per_answered_query_usd": ("cost per answer", "${:.6f}"),
    "cost_per_hour_usd": ("cost per hour", "${:.4f}"),
    "requests_per_second": ("requests per second", "{:.2f}"),
    "retries_per_request": ("retries per request", "{:.3f}"),
}


def panel_expr(title: str) -> str:
    """The PromQL of the dashboard panel `title` (its first query), as the spec defines it."""
    (panel,) = (p for p in SPEC.dashboard.panels if p.title == title)
    return panel.queries[0].expr


class TooFewRequests(ValueError):
    """The baseline's error rate cannot mean anything yet; the message says how long to wait."""


def _fmt(name: str, value: float | None, baseline: Baseline | None = None) -> str:
    if value is None and baseline is not None:
        absent = [m for m in baseline.absent_metrics if name in NEEDS.get(m, ())]
        if absent:
            return f"absent (no {', '.join(absent)})"
    return figure(value, FIGURES[name][1])


def render_markdown(baseline: Baseline) -> str:
    low, high = EXPECTED_ERROR_RATE_BEFORE
    rows = "\n".join(
        f"| {label} | {_fmt(name, getattr(baseline, name), baseline)} |"
        for name, (label, _) in FIGURES.items()
    )
    of_job = f" on job `{baseline.job}`" if baseline.job else ""
    levels = ", ".join(f"{level} {count}" for level, count in baseline.answers_by_level.items())
    warnings = "".join(f"- ⚠ {note}\n" for note in baseline.warnings)
    return (
        f"# RAG baseline\n\nMeasured{of_job} {baseline.measured_at} for the window of "
        f"{baseline.window}; the data covers {baseline.span_seconds or 0:.0f} s from "
        f"{baseline.span_start} ({baseline.source}).\n\n"
        f"| figure | value |\n|---|---|\n{rows}\n\n"
        f"Error rate {describe_error_rate(baseline) if baseline.requests else 'n/a'}; "
        f"{describe_target_claim(baseline)}.\n"
        + (f"\nAnswers per level: {levels}.\n" if levels else "")
        + (f"\n{warnings}" if warnings else "")
        + f"\nThe course expects {low}-{high} % errors before the resilience module (M2.4) "
        f"and below {TARGET_ERROR_RATE_AFTER} % after it.\n"
    )


def draw_error_band(axis: Axes) -> None:
    """The course's before-band (shaded) and after-target (dashed) on an error-rate axis."""
    low, high = EXPECTED_ERROR_RATE_BEFORE
    axis.axhspan(low, high, color="tab:orange", alpha=0.15, label=f"course baseline {low}-{high} %")
    axis.axhline(
        TARGET_ERROR_RATE_AFTER,
        color="tab:green",
        linestyle="--",
        label=f"M2.4 target < {TARGET_ERROR_RATE_AFTER} %",
    )


def draw_latency_slo(axis: Axes) -> None:
    axis.axhline(
        P95_LATENCY_SECONDS,
        color="tab:red",
        linestyle="--",
        label=f"p95 SLO {P95_LATENCY_SECONDS:g} s",
    )


#: The chart's rows: dashboard panels by title, each with its axis label and the course's
#: reference line it is read against.
CHART_PANELS: tuple[tuple[str, str, Callable[[Axes], None] | None], ...] = (
    ("Error Rate (%)", "error rate (%)", draw_error_band),
    ("p95 Latency", "p95 latency (s)", draw_latency_slo),
    ("Cache Hit Rate (%)", "cache hit rate (%)", None),
)


def write_chart(prometheus: PrometheusClient, baseline: Baseline, path: Path) -> None:
    """The baseline's span as the dashboard draws it, against the band, target and SLO."""
    plt = pyplot()
    end = datetime.fromisoformat(baseline.measured_at)
    start = (
        datetime.fromisoformat(baseline.span_start)
        if baseline.span_start
        else end - timedelta(minutes=15)
    )
    figure, axes = plt.subplots(len(CHART_PANELS), 1, figsize=(9, 7.5), sharex=True)
    for axis, (title, label, reference) in zip(axes, CHART_PANELS, strict=True):
        for series in prometheus.query_range(
            scope_to_job(panel_expr(title), baseline.job), start=start, end=end, step_seconds=15
        ):
            times = [datetime.fromtimestamp(t, UTC) for t, _ in series.points]
            axis.plot(times, [v for _, v in series.points], color="tab:blue", label="measured")
        if reference is not None:
            reference(axis)
        axis.set_ylabel(label)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:  # a panel with no data yet has no lines
            axis.legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("time (UTC)")
    axes[0].set_title(
        f"RAG baseline: {baseline.span_seconds or 0:.0f} s of data to {end:%Y-%m-%d %H:%M} UTC "
        "(the dashboard's queries)"
    )
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


COMPARISON_COLORS = ("tab:orange", "tab:blue", "tab:purple", "tab:gray")


def draw_comparison(
    errors: Axes, latency: Axes, cost: Axes, baselines: Sequence[Baseline], labels: Sequence[str]
) -> None:
    """Baselines side by side on shared axes: error rate with its 95 % interval against
    the band and target, p50/p95/p99 against the SLO, cost per 1000 answers."""
    width = 0.8 / len(baselines)
    for i, (baseline, label) in enumerate(zip(baselines, labels, strict=True)):
        color = COMPARISON_COLORS[i]
        rate = baseline.error_rate_percent or 0.0
        below = rate - (baseline.error_rate_low_percent or rate)
        above = (baseline.error_rate_high_percent or rate) - rate
        errors.bar(i, rate, color=color, yerr=[[below], [above]], capsize=6)
        errors.annotate(
            f"{rate:.2f} %", (i, rate), textcoords="offset points", xytext=(8, 2), fontsize=9
        )
        quantiles = (
            baseline.p50_latency_seconds,
            baseline.p95_latency_seconds,
            baseline.p99_latency_seconds,
        )
        xs = [q + (i - (len(baselines) - 1) / 2) * width for q in range(3)]
        latency.bar(xs, [q or 0.0 for q in quantiles], width, color=color, label=label)
        cost.bar(i, 1000 * (baseline.cost_per_answered_query_usd or 0.0), color=color)
    draw_error_band(errors)
    errors.set_xticks(range(len(labels)), labels)
    errors.set_ylabel("error rate (%), bar: 95 % interval")
    errors.set_ylim(bottom=0)
    errors.legend(loc="upper right", fontsize=8)
    draw_latency_slo(latency)
    latency.set_xticks(range(3), ["p50", "p95", "p99"])
    latency.set_ylabel("latency (s)")
    latency.legend(fontsize=8)
    cost.set_xticks(range(len(labels)), labels)
    cost.set_ylabel("US$ per 1000 answered queries")
    for axis in (errors, latency, cost):
        axis.grid(alpha=0.3, axis="y")


def write_comparison_chart(
    baselines: Sequence[Baseline], labels: Sequence[str], path: Path, *, title: str
) -> None:
    """Two or more baselines on the same axes (`lab compare --chart`)."""
    plt = pyplot()
    figure, (errors, latency, cost) = plt.subplots(1, 3, figsize=(13, 4.5))
    draw_comparison(errors, latency, cost, baselines, labels)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_baseline(
    prometheus: PrometheusClient,
    window: str,
    out_dir: Path,
    *,
    force: bool = False,
    job: str | None = None,
) -> Baseline:
    """Measure `job`'s baseline and save it; TooFewRequests (nothing saved) unless `force`."""
    baseline = measure(prometheus, window, job=job)
    if baseline.too_few_requests and not force:
        raise TooFewRequests("; ".join(baseline.warnings))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / JSON_NAME).write_text(json.dumps(baseline.to_json(), indent=2) + "\n")
    (out_dir / "baseline.md").write_text(render_markdown(baseline))
    write_chart(prometheus, baseline, out_dir / "baseline.png")
    return baseline


def load_baseline(path: Path) -> Baseline:
    """A baseline from its directory or its JSON file; ValueError says what is wrong."""
    file = path / JSON_NAME if path.is_dir() else path
    try:
        return Baseline.from_json(json.loads(file.read_text()))
    except FileNotFoundError as exc:
        raise ValueError(f"{file} not found: record one with `lab baseline --out DIR`") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, AttributeError) as exc:
        raise ValueError(f"{file} is not a baseline written by `lab baseline`: {exc}") from exc
    except ValidationError as exc:
        wrong = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        raise ValueError(f"{file} is not a baseline written by `lab baseline`: {wrong}") from exc


@dataclass(frozen=True)
class Difference:
    name: str
    before: float | None
    after: float | None

    @property
    def change_percent(self) -> float | None:
        if self.before in (None, 0) or self.after is None:
            return None
        return (self.after - self.before) / self.before * 100


def compare(before: Baseline, after: Baseline) -> list[Difference]:
    return [Difference(n, getattr(before, n), getattr(after, n)) for n in FIGURES]


def render_comparison(before: Baseline, after: Baseline) -> str:
    lines = [f"{'figure':<22}{'before':>14}{'after':>14}{'change':>10}"]
    for diff in compare(before, after):
        change = diff.change_percent
        lines.append(
            f"{FIGURES[diff.name][0]:<22}{_fmt(diff.name, diff.before):>14}"
            f"{_fmt(diff.name, diff.after):>14}"
            f"{'' if change is None else f'{change:+.0f} %':>10}"
        )
    if before.job != after.job:
        lines.append(
            f"⚠ measured on different jobs: before {before.job or 'every job'}, after "
            f"{after.job or 'every job'}: compare the same app"
        )
    for label, baseline in (("before", before), ("after", after)):
        if baseline.requests:
            lines.append(f"{label}: {describe_error_rate(baseline)}")
        lines.extend(f"⚠ {label}: {note}" for note in baseline.warnings)
    rate = after.error_rate_percent
    if rate is not None:
        met = "met" if rate < TARGET_ERROR_RATE_AFTER else "not met"
        lines.append(f"\nM2.4 target, error rate below {TARGET_ERROR_RATE_AFTER} %: {met}")
        if after.requests:
            lines.append(f"  {describe_target_claim(after)}")
    return "\n".join(lines)


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
