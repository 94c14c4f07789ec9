"""The fixture kinds: one class per spec fixture type, and a wrong fixture fails promtool."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest

from lab.generate import promtool
from lab.generate.promtool import fixtures
from lab.generate.promtool.interface import Probes
from lab.spec import SPEC, model
from lab.spec.model import Alert, GaugeFixture, Spec


def _with_fixture(spec: Spec, name: str, fixture: Any) -> Spec:
    """A copy of the spec with one alert's fixture replaced."""
    groups = tuple(
        replace(
            g, alerts=tuple(replace(a, fixture=fixture) if a.name == name else a for a in g.alerts)
        )
        for g in spec.rule_groups
    )
    return replace(spec, rule_groups=groups)


def test_every_spec_fixture_type_has_exactly_one_fixture_class() -> None:
    """The types an alert's `fixture` may take are the table's keys, each with its own class
    built on that type; every other fixture dataclass of the spec is an alert's `also_`."""
    kinds = get_args(model.Fixture)
    assert set(fixtures.KINDS) == set(kinds)
    assert len(set(fixtures.KINDS.values())) == len(fixtures.KINDS)
    for spec_type, kind in fixtures.KINDS.items():
        assert get_type_hints(kind)["spec"] is spec_type, kind
    hints = get_type_hints(Alert)
    extras = {
        t for f in fields(Alert) if f.name.startswith("also_") for t in get_args(hints[f.name])
    }
    declared = {
        value
        for name, value in vars(model).items()
        if is_dataclass(value) and isinstance(value, type) and re.search("Fixture|Firing", name)
    }
    assert declared == set(kinds) | (extras - {type(None)})


def test_an_alert_whose_fixture_has_no_kind_is_refused_naming_the_table() -> None:
    """A spec fixture type missing from the table fails the render saying where to add it."""

    @dataclass(frozen=True)
    class NewShape:
        series: str

    spec = _with_fixture(SPEC, "LowRateLimitHeadroom", NewShape("x"))
    with pytest.raises(ValueError, match=r"no fixture kind for NewShape.*fixtures\.py"):
        promtool.render_alert_tests(spec.alert("LowRateLimitHeadroom"), spec)


@dataclass(frozen=True)
class _QuietPastTheThreshold(fixtures.Gauge):
    """A deliberately wrong kind: its quiet probe is its firing one."""

    def probes(self, alert: Alert) -> Probes:
        probes = super().probes(alert)
        return replace(probes, quiet=probes.firing)


def _promtool_on(repo_copy: Path, tool: Any, spec: Spec, alert: str) -> tuple[int, str]:
    file = promtool.render_alert_tests(spec.alert(alert), spec)
    (repo_copy / file.path).write_text(file.content, encoding="utf-8")
    tests_dir = repo_copy / promtool.TESTS_DIR
    result = tool("promtool", "test", "rules", Path(file.path).name, cwd=tests_dir)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("alert", "fixture", "failing_case"),
    [
        # `< 20` with a firing value of 50: the firing probe on the healthy side.
        (
            "LowRateLimitHeadroom",
            GaugeFixture(
                series='rag_rate_limit_headroom_percent{job="rag-app"}', healthy=80, firing=50
            ),
            "LowRateLimitHeadroom fires once the value (50%)",
        ),
        # A scale of 1 for a query that multiplies by 100: each probe feeds 100 times the
        # errors, so the quiet one lands far past the threshold.
        (
            "HighErrorRate",
            replace(SPEC.alert("HighErrorRate").fixture, scale=1.0),
            "HighErrorRate never fires just inside the threshold",
        ),
        # A metric name the rule does not read: the alert never fires.
        (
            "LowRateLimitHeadroom",
            GaugeFixture(series='rag_rate_limit_headroom{job="rag-app"}', healthy=80),
            "LowRateLimitHeadroom fires once",
        ),
    ],
    ids=["firing-probe-on-the-healthy-side", "scale-off-by-100", "wrong-metric-name"],
)
def test_a_wrong_fixture_renders_tests_that_promtool_fails(
    repo_copy: Path, tool: Any, alert: str, fixture: Any, failing_case: str
) -> None:
    """A mistaken fixture in the spec still renders, and `promtool test rules` fails the
    case it spoils: the generated tests check the rules, not merely themselves."""
    code, output = _promtool_on(repo_copy, tool, _with_fixture(SPEC, alert, fixture), alert)
    assert code != 0
    assert failing_case in output


def test_a_wrong_fixture_class_renders_tests_that_promtool_fails(
    repo_copy: Path, tool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kind whose quiet probe sits past the threshold makes the quiet case fail promtool
    (the committed tests, from the right kind, pass)."""
    monkeypatch.setitem(fixtures.KINDS, GaugeFixture, _QuietPastTheThreshold)
    code, output = _promtool_on(repo_copy, tool, SPEC, "LowRateLimitHeadroom")
    assert code != 0
    assert "LowRateLimitHeadroom never fires just inside the threshold (10%)" in output
