"""How much an error rate measured on n requests can claim: exact binomial intervals.

An error rate of 0 % on 300 requests does not show "below 0.1 %": with 95 % confidence
the true rate could still be 1 %. The course's target (< 0.1 % errors after M2.4) is a
claim about the true rate, so the lab states the interval, and how many requests a claim
needs, next to every measured rate.

Clopper-Pearson ("exact") intervals are used because they never undercover, also at 0
errors, where the normal approximation says nothing and the rule of three is the
one-sided bound (1 - 0.05^(1/n) ≈ 3/n). The bounds are found by bisection on the binomial
distribution function, summed in log space: the lab needs only this one function, and
scipy (whose `beta.ppf` gives the same numbers) would add a large dependency for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

CONFIDENCE = 0.95


def _binomial_cdf(errors: int, requests: int, rate: float) -> float:
    """P(X <= errors) for X ~ Binomial(requests, rate)."""
    if rate <= 0.0:
        return 1.0
    if rate >= 1.0:
        return 1.0 if errors >= requests else 0.0
    log_rate, log_rest = math.log(rate), math.log1p(-rate)
    log_n = math.lgamma(requests + 1)
    terms = [
        log_n
        - math.lgamma(i + 1)
        - math.lgamma(requests - i + 1)
        + i * log_rate
        + (requests - i) * log_rest
        for i in range(errors + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _solve(tail: Callable[[float], float], alpha: float) -> float:
    """The rate where `tail`, rising with the rate, reaches `alpha` (bisection)."""
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if tail(middle) < alpha:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def upper_bound(errors: int, requests: int, confidence: float = CONFIDENCE) -> float:
    """One-sided upper confidence bound of the error fraction (Clopper-Pearson)."""
    _validate(errors, requests)
    if errors >= requests:
        return 1.0
    return _upper(errors, requests, 1.0 - confidence)


def _upper(errors: int, requests: int, alpha: float) -> float:
    # P(X > errors) rises with the rate; the bound is where P(X <= errors) falls to alpha.
    return _solve(lambda rate: 1.0 - _binomial_cdf(errors, requests, rate), 1.0 - alpha)


def _lower(errors: int, requests: int, alpha: float) -> float:
    return _solve(lambda rate: 1.0 - _binomial_cdf(errors - 1, requests, rate), alpha)


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval of an error fraction (0..1)."""

    low: float
    high: float
    confidence: float


def interval(errors: int, requests: int, confidence: float = CONFIDENCE) -> Interval:
    """Two-sided Clopper-Pearson interval of the error fraction."""
    _validate(errors, requests)
    alpha = (1.0 - confidence) / 2
    low = 0.0 if errors == 0 else _lower(errors, requests, alpha)
    high = 1.0 if errors == requests else _upper(errors, requests, alpha)
    return Interval(low, high, confidence)


def requests_for_zero_error_claim(target: float, confidence: float = CONFIDENCE) -> int:
    """Fewest requests that, all answered, show the error fraction is below `target`.

    For 0.1 % at 95 %: 2 995 (the rule of three says 3 / 0.001 = 3 000).
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be a fraction between 0 and 1, got {target}")
    return math.ceil(math.log(1.0 - confidence) / math.log1p(-target))


def requests_for_width(rate: float, width: float, confidence: float = CONFIDENCE) -> int:
    """Fewest requests whose interval around `rate` is narrower than `width` (fractions).

    Used to say when an error rate "means anything" against the course's band: below it,
    the interval is wider than the band itself.
    """
    if width <= 0:
        raise ValueError("width must be positive")

    def wide(n: int) -> bool:
        bounds = interval(round(rate * n), n, confidence)
        return bounds.high - bounds.low >= width

    high = 1
    while wide(high):
        high *= 2
        if high > 10_000_000:
            raise ValueError(f"no request count gives an interval narrower than {width}")
    low = high // 2
    while low + 1 < high:
        middle = (low + high) // 2
        if wide(middle):
            low = middle
        else:
            high = middle
    return high


def _validate(errors: int, requests: int) -> None:
    if requests <= 0 or errors < 0 or errors > requests:
        raise ValueError(f"need 0 <= errors <= requests and requests > 0, got {errors}/{requests}")
