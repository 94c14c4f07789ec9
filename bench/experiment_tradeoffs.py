"""What resilience trades: errors against latency and cost, under both experiment profiles.

Runs `lab experiment`'s runner in-process (the app behind FastAPI's ASGI TestClient, on
the app's VirtualClock: simulated latencies, backoff, outage windows and cache TTLs pass
at their real lengths without real waiting), with the live command's default scale
(3 000 requests per arm at 5 req/s), for several traffic seeds. Requests are sequential:
admission control never sheds, and a latency spike holds back the arrivals behind each
slow request, so it slows far fewer requests than on the live lab (see
lab/experiment/in_process.py); errors, fallback shares and cost carry over.

Usage: ``python bench/experiment_tradeoffs.py [--seeds 2024 2025 2026] [--requests N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info

from lab.experiment.in_process import InProcessApp
from lab.experiment.profiles import FULL, PROFILES, Scale
from lab.experiment.report import DEGRADED_LEVELS, ClientFigures, Comparison
from lab.experiment.runner import run_experiment
from lab.kit import confidence

RESULTS = Path(__file__).resolve().parent / "results" / "experiment_tradeoffs.md"


def run(profile: str, scale: Scale, seed: int) -> Comparison:
    with InProcessApp(seed=seed) as app:
        return Comparison.of(
            run_experiment(app, PROFILES[profile], scale, clock=app, seed=seed, server=app)
        )


def row(profile: str, arm: str, runs: list[Comparison]) -> str:
    figures: list[ClientFigures] = [c.client[arm] for c in runs]
    servers = [next(a.server for a in c.run.arms if a.name == arm) for c in runs]
    errors = sum(f.errors for f in figures)
    requests = sum(f.requests for f in figures)
    bounds = confidence.interval(errors, requests)

    def median(values: list[float | None]) -> float:
        return statistics.median(v or 0.0 for v in values)

    degraded = {
        level: 100 * sum(f.answers_by_level.get(level, 0) for f in figures) / requests
        for level in DEGRADED_LEVELS
    }
    retries = sum((s.retries_per_request or 0.0) * (s.requests or 0) for s in servers if s)
    return (
        f"| {profile} | {arm} | {100 * errors / requests:.3f} % "
        f"({100 * bounds.low:.3f}-{100 * bounds.high:.3f}) "
        f"| {', '.join(str(f.errors) for f in figures)} "
        f"| {1000 * median([f.p50_latency_seconds for f in figures]):.0f} "
        f"| {1000 * median([f.p95_latency_seconds for f in figures]):.0f} "
        f"| {1000 * median([f.p99_latency_seconds for f in figures]):.0f} "
        f"| {1e6 * median([f.cost_per_answered_query_usd for f in figures]):.1f} "
        f"| {' / '.join(f'{degraded[level]:.2f}' for level in DEGRADED_LEVELS)} "
        f"| {retries / requests:.4f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2024, 2025, 2026])
    parser.add_argument("--requests", type=int, default=FULL.requests_per_arm)
    parser.add_argument("--rate", type=float, default=FULL.rate_per_second)
    args = parser.parse_args()
    scale = Scale(args.requests, args.rate)
    started = time.perf_counter()
    rows = []
    for profile in PROFILES:
        runs = [run(profile, scale, seed) for seed in args.seeds]
        rows.extend(row(profile, arm, runs) for arm in ("off", "on"))
        print(f"{profile}: done after {time.perf_counter() - started:.0f} s", file=sys.stderr)
    elapsed = time.perf_counter() - started
    seeds = " ".join(str(s) for s in args.seeds)
    levels = " / ".join(DEGRADED_LEVELS)
    columns = [
        "profile", "resilience", "error rate (95 % interval)", "errors per seed", "p50 ms",
        "p95 ms", "p99 ms", "µ$ per answer", f"degraded % ({levels})", "retries per request",
    ]  # fmt: skip
    header = f"| {' | '.join(columns)} |\n|---|---|---|---|---:|---:|---:|---:|---|---:|"
    text = f"""# Resilience trade-offs: errors, latency and cost per profile

Command (from the repository root, in the dev venv):

```
python bench/experiment_tradeoffs.py --seeds {seeds} --requests {args.requests} --rate {args.rate:g}
```

`lab experiment`'s runner, in-process on the app's virtual clock (no real waiting;
simulated latencies at their real, unscaled lengths), {args.requests} requests per arm at
{args.rate:g} req/s ({scale.seconds:.0f} s of simulated traffic per arm), for each of
{len(args.seeds)} traffic seeds (the app's random source seeded alike). Requests are
sequential: admission control never sheds in this setting, and the harsh profile's
latency spike slows only the few requests sent while it lasts (each holds back the
arrivals behind it), so its p99 here understates the live lab's; errors, fallback
shares and cost carry over. Client-side figures, as
`lab experiment` reports them; the error rate pools the seeds (95 % Clopper-Pearson
interval in brackets), latencies and cost are the median over the seeds. Retries per
request come from the app's own counters. The whole run took {elapsed:.0f} s.

{header}
{chr(10).join(rows)}

Profiles: {"; ".join(f"**{p.name}**: {p.description}" for p in PROFILES.values())}.

Machine:

{machine_info()}
"""
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
