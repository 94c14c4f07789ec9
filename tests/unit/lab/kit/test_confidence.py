"""Exact binomial bounds: the numbers behind "how many requests a 0.1 % claim needs"."""

from __future__ import annotations

import math

import pytest

from lab.kit import confidence


def test_zero_errors_in_3000_requests_bound_the_rate_below_a_tenth_of_a_percent() -> None:
    """With no errors, the one-sided 95 % bound is the rule of three's 3/n."""
    assert confidence.upper_bound(0, 3000) == pytest.approx(0.000998, rel=1e-3)
    assert confidence.upper_bound(0, 2000) > 0.001


def test_zero_error_claim_of_a_tenth_of_a_percent_needs_2995_requests() -> None:
    """The count is the smallest n whose bound is below the target."""
    needed = confidence.requests_for_zero_error_claim(0.001)
    assert needed == 2995
    assert confidence.upper_bound(0, needed) < 0.001 <= confidence.upper_bound(0, needed - 1)


def binomial_cdf(errors: int, requests: int, rate: float) -> float:
    """The distribution function summed exactly with math.comb (a second computation)."""
    return sum(
        math.comb(requests, i) * rate**i * (1 - rate) ** (requests - i) for i in range(errors + 1)
    )


def test_two_sided_interval_puts_2_5_percent_in_each_tail() -> None:
    """6 errors in 1000 requests: 0.22 %-1.30 %, each bound leaving exactly 2.5 % outside."""
    bounds = confidence.interval(6, 1000)
    assert (round(bounds.low, 4), round(bounds.high, 4)) == (0.0022, 0.0130)
    assert binomial_cdf(6, 1000, bounds.high) == pytest.approx(0.025, abs=1e-6)
    assert 1 - binomial_cdf(5, 1000, bounds.low) == pytest.approx(0.025, abs=1e-6)


def test_interval_at_zero_and_all_errors_reaches_the_ends() -> None:
    """No errors: the interval starts at 0; all errors: it ends at 1."""
    assert confidence.interval(0, 50).low == 0.0
    assert confidence.interval(50, 50).high == 1.0


def test_requests_for_width_is_the_first_count_whose_interval_is_narrow_enough() -> None:
    """At 0.6 % errors, the interval is narrower than 1.5 points from about 540 requests."""
    needed = confidence.requests_for_width(0.006, 0.015)
    bounds = confidence.interval(round(0.006 * needed), needed)
    assert bounds.high - bounds.low < 0.015
    assert 400 < needed < 700


@pytest.mark.parametrize(("errors", "requests"), [(-1, 10), (11, 10), (0, 0)])
def test_impossible_counts_are_refused(errors: int, requests: int) -> None:
    """Counts that cannot come from traffic raise instead of returning a number."""
    with pytest.raises(ValueError, match="errors"):
        confidence.interval(errors, requests)
