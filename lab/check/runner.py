"""Runs the readiness checks in the course's order and collects their results; or, with a
deadline, runs them again until each has passed (`lab check --wait`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from lab.check import alerts, baseline, dashboards, logs, scrape
from lab.check.logsource import LogSource, StreamLogSource, log_source_for
from lab.check.result import CheckResult
from lab.check.targeting import target_of
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings

CHECKS = (scrape.NAME, dashboards.NAME, alerts.NAME, logs.NAME, baseline.NAME)


@dataclass(frozen=True)
class CheckOptions:
    """Choices a person makes per run, as opposed to where the services are (settings)."""

    only: Sequence[str] = CHECKS
    send_test_alert: bool = True
    #: Let the test alert reach Slack, email or PagerDuty (`--send-test-alert-to-real-receivers`).
    real_receivers_allowed: bool = False
    log_source: LogSource | None = None  # default: the compose app container's logs
    send_query: bool = True  # False when logs are piped in: trace the latest request


def run_checks(settings: LabSettings, options: CheckOptions | None = None) -> list[CheckResult]:
    options = options or CheckOptions()
    unknown = sorted(set(options.only) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; choose from {', '.join(CHECKS)}")
    ctx = LabContext.from_settings(settings)
    results: list[CheckResult] = []
    for name in CHECKS:
        if name not in options.only:
            continue
        if name == scrape.NAME:
            results.append(scrape.run(ctx))
        elif name == dashboards.NAME:
            results.append(dashboards.run(ctx))
        elif name == alerts.NAME:
            results.append(
                alerts.run(
                    ctx,
                    send_test_alert=options.send_test_alert,
                    real_receivers_allowed=options.real_receivers_allowed,
                )
            )
        elif name == logs.NAME:
            source = options.log_source or log_source_for(target_of(ctx), settings.compose_project)
            # A pipe is read once, after the fact: the latest request in it is traced.
            send_query = options.send_query and not isinstance(source, StreamLogSource)
            results.append(logs.run(ctx, source, send_query=send_query))
        else:
            results.append(baseline.run(ctx))
    where = ctx.target.name + (f" ({ctx.target.source})" if ctx.target.source else "")
    return [replace(result, target=where) for result in results]


#: Seconds between rounds of `lab check --wait`: the app is scraped every 5 s.
WAIT_INTERVAL_SECONDS = 2.0


@dataclass(frozen=True)
class WaitRound:
    """One round of `lab check --wait`: when it ended, what passed so far, what still fails."""

    elapsed: float
    passed: tuple[str, ...]
    failing: tuple[CheckResult, ...]


def wait_for_checks(
    run: Callable[[Sequence[str], float], list[CheckResult]],
    only: Sequence[str],
    *,
    timeout: float,
    progress: Callable[[WaitRound], None] = lambda _: None,
    interval: float = WAIT_INTERVAL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[CheckResult]:
    """Run the checks named in `only` until each has passed (or been skipped) once, or until
    `timeout` seconds have gone by; return the latest result of each, in the course's order.

    `run(names, seconds_left)` runs the named checks, none of them waiting longer than
    `seconds_left`. A check that has passed is not run again, so the test alert is sent
    once it can arrive, not once per round; at the deadline the failing checks are
    returned as they last failed.
    """
    started = clock()
    latest: dict[str, CheckResult] = {}
    pending = [name for name in CHECKS if name in only]
    while True:
        left = max(0.0, timeout - (clock() - started))
        for result in run(pending, left):
            latest[result.check] = result
        pending = [name for name in pending if latest[name].failed]
        elapsed = clock() - started
        progress(
            WaitRound(
                elapsed=elapsed,
                passed=tuple(n for n in CHECKS if n in latest and not latest[n].failed),
                failing=tuple(latest[n] for n in pending),
            )
        )
        if not pending or elapsed >= timeout:
            return [latest[name] for name in CHECKS if name in latest]
        sleep(min(interval, timeout - elapsed))
