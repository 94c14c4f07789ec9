"""The resilience drills end to end on the live stack: the admin API switches resilience on,
the injected outage opens the real breaker, the real CircuitBreakerOpen rule fires and is
notified, and after the fault is cleared the breaker closes, the alert resolves, and the
previous resilience configuration is back."""

from __future__ import annotations

import pytest

from lab.kit.clients.alert_sink import AlertSinkClient
from lab.kit.clients.app import AppClient
from lab.kit.exit_codes import ExitCode
from tests.integration.conftest import Stack
from tests.integration.test_cli import endpoint_flags, lab


@pytest.mark.disruptive
def test_llm_outage_drill_opens_the_breaker_notifies_recovers_and_restores(
    own_stack: Stack,
) -> None:
    """`lab drill llm-outage`: CircuitBreakerOpen fires for the llm breaker, reaches the
    sink, resolves once the breaker has closed again, and the resilience config is as before."""
    app = AppClient(own_stack.app_url, admin_token=own_stack.admin_token)
    before = app.resilience()
    assert before["enabled"] is False  # the course's "before": resilience off by default
    code, output = lab(
        "drill", "llm-outage", *endpoint_flags(own_stack),
        "--admin-token", own_stack.admin_token, "--timeout", "300",
    )  # fmt: skip
    print(output)
    assert code == ExitCode.OK, output
    assert "resilience set: {'enabled': True}" in output
    assert "CircuitBreakerOpen firing in Prometheus" in output
    assert "the llm circuit breaker is closed again" in output
    assert "resilience configuration restored" in output
    assert "✓ drill llm-outage" in output
    assert app.resilience() == before
    assert app.faults()["llm_outage_remaining_seconds"] == 0
    sink = AlertSinkClient(own_stack.urls["alert-sink"])
    for status in ("firing", "resolved"):
        notified = sink.alerts(alertname="CircuitBreakerOpen", status=status)
        assert any(a["labels"].get("service") == "llm" for a in notified), (status, notified)


@pytest.mark.extended
@pytest.mark.disruptive
def test_load_shedding_drill_sheds_notifies_resolves_and_restores(own_stack: Stack) -> None:
    """`lab drill load-shedding`: small admission limits and a latency spike make the app
    shed requests, LoadShedding fires, reaches the sink and resolves once the config is back."""
    app = AppClient(own_stack.app_url, admin_token=own_stack.admin_token)
    before = app.resilience()
    code, output = lab(
        "drill", "load-shedding", *endpoint_flags(own_stack),
        "--admin-token", own_stack.admin_token, "--timeout", "600",
    )  # fmt: skip
    print(output)
    assert code == ExitCode.OK, output
    assert "LoadShedding firing in Prometheus" in output
    assert "✓ drill load-shedding" in output
    assert app.resilience() == before
    shed = own_stack.prometheus.query("sum(increase(rag_shed_requests_total[30m]))")
    assert shed
    assert shed[0].value > 0
