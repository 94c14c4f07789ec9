"""`lab baseline` and `lab compare`: the before/after record of the resilience work.

A baseline is saved as JSON (for `lab compare`), Markdown (for a person or a pull
request) and a PNG chart of the window (what the dashboard showed), in one directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lab.checks.baseline import (
    EXPECTED_ERROR_RATE_BEFORE,
    TARGET_ERROR_RATE_AFTER,
    Baseline,
    baseline_queries,
    measure,
)
from lab.checks.scrape import parse_duration_seconds
from lab.clients import PrometheusClient

JSON_NAME = "baseline.json"
FIGURES = {
    "error_rate_percent": ("error rate", "{:.2f} %"),
    "p50_latency_seconds": ("p50 latency", "{:.3f} s"),
    "p95_latency_seconds": ("p95 latency", "{:.3f} s"),
    "p99_latency_seconds": ("p99 latency", "{:.3f} s"),
    "cache_hit_rate_percent": ("cache hit rate", "{:.1f} %"),
    "cost_per_query_usd": ("cost per query", "${:.6f}"),
    "cost_per_hour_usd": ("cost per hour", "${:.4f}"),
    "requests_per_second": ("requests per second", "{:.2f}"),
}
CHARTED = ("error_rate_percent", "p95_latency_seconds", "cache_hit_rate_percent")


def _fmt(name: str, value: float | None) -> str:
    return "n/a" if value is None else FIGURES[name][1].format(value)


def render_markdown(baseline: Baseline) -> str:
    low, high = EXPECTED_ERROR_RATE_BEFORE
    rows = "\n".join(
        f"| {label} | {_fmt(name, getattr(baseline, name))} |"
        for name, (label, _) in FIGURES.items()
    )
    return (
        f"# RAG baseline\n\nMeasured {baseline.measured_at} over the preceding "
        f"{baseline.window} from Prometheus.\n\n| figure | value |\n|---|---|\n{rows}\n\n"
        f"The course expects {low}-{high} % errors before the resilience module (M2.4) "
        f"and below {TARGET_ERROR_RATE_AFTER} % after it.\n"
    )


def write_chart(prometheus: PrometheusClient, baseline: Baseline, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = datetime.fromisoformat(baseline.measured_at)
    start = end - timedelta(seconds=parse_duration_seconds(baseline.window))
    # Each point summarises the last minute, so the chart shows movement within the window.
    queries = baseline_queries("1m")
    figure, axes = plt.subplots(len(CHARTED), 1, figsize=(9, 7), sharex=True)
    for axis, name in zip(axes, CHARTED, strict=True):
        for series in prometheus.query_range(queries[name], start=start, end=end, step_seconds=15):
            times = [datetime.fromtimestamp(t, UTC) for t, _ in series.points]
            axis.plot(times, [v for _, v in series.points])
        axis.set_ylabel(FIGURES[name][0])
        axis.grid(alpha=0.3)
    axes[0].set_title(f"RAG baseline, {baseline.window} to {end:%Y-%m-%d %H:%M} UTC")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_baseline(prometheus: PrometheusClient, window: str, out_dir: Path) -> Baseline:
    baseline = measure(prometheus, window)
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
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{file} is not a baseline written by `lab baseline`: {exc}") from exc


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
    rate = after.error_rate_percent
    if rate is not None:
        met = "met" if rate < TARGET_ERROR_RATE_AFTER else "not met"
        lines.append(f"\nM2.4 target, error rate below {TARGET_ERROR_RATE_AFTER} %: {met}")
    return "\n".join(lines)
