"""Putting a scenario's fault in place, and taking every kind of fault away.

`take_away_all` does not trust the state file: it clears the app's faults and the
lab-owned files, reloads Prometheus, restarts Alertmanager if it runs a variant, and
expires the silences a scenario creates, whatever is there. Run twice, it does nothing
the second time but confirm; a service that does not answer is reported with the fix,
and the other steps still run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lab.generate import scenario_variants
from lab.kit import owned_files
from lab.kit.clients import ServiceError
from lab.scenario.live import Lab
from lab.scenario.model import Scenario
from lab.spec import SPEC

#: Who the scenario's silence says created it: a bot, as maintenance silences often are.
SILENCE_AUTHOR = "maintenance-bot"
SILENCE_COMMENT = "LLM gateway maintenance window"
SILENCE_DAYS = 7
#: What the silence mutes: every warning and page, far wider than a maintenance needs.
SILENCE_MATCHERS: list[dict[str, object]] = [
    {"name": "severity", "value": "warning|critical", "isRegex": True, "isEqual": True}
]
SCRAPE_VARIANT_FILE = f"{owned_files.SCRAPE_PREFIX}duplicate.yml"


def _variant(path: str) -> str:
    return next(f.content for f in scenario_variants.render(SPEC) if f.path == path)


def put_in_place(lab: Lab, scenario: Scenario) -> str | None:
    """Break the lab as `scenario` says; returns the id of the silence it created, if any.

    The app's faults stay once every step has passed (a kept session); a step that fails
    takes them away again."""
    fault = scenario.fault
    with lab.fault_session(keep=True) as app:
        if fault.app:
            app.set_faults(**fault.app)
        if fault.duplicate_scrape:
            lab.write_file(SCRAPE_VARIANT_FILE, _variant(scenario_variants.SCRAPE_VARIANT_PATH))
            lab.reload_prometheus()
        if fault.dropping_route:
            lab.write_file(
                owned_files.ALERTMANAGER_FILE,
                _variant(scenario_variants.ALERTMANAGER_VARIANT_PATH),
            )
            lab.restart_alertmanager()
        if fault.silence:
            now = datetime.now(UTC)
            return lab.alertmanager.create_silence(
                SILENCE_MATCHERS,
                starts_at=now,
                ends_at=now + timedelta(days=SILENCE_DAYS),
                created_by=SILENCE_AUTHOR,
                comment=SILENCE_COMMENT,
            )
    return None


def _clear_app(lab: Lab) -> str:
    lab.fault_session().restore()
    return "the app's faults are back to its defaults"


def _clear_prometheus(lab: Lab) -> str:
    removed = [path.name for path in lab.scrape_variants()]
    for name in removed:
        lab.remove_file(name)
    lab.reload_prometheus()
    return "Prometheus reloaded" + (f" without {', '.join(removed)}" if removed else "")


def _clear_alertmanager(lab: Lab) -> str:
    removed = lab.remove_file(owned_files.ALERTMANAGER_FILE)
    if removed or scenario_variants.has_dropping_route(lab.alertmanager.config_text()):
        lab.restart_alertmanager()
        return "Alertmanager restarted on alertmanager/alertmanager.yml"
    return "Alertmanager runs alertmanager/alertmanager.yml"


def _expire_silences(lab: Lab, silence_id: str | None) -> str:
    ids = {
        str(s["id"])
        for s in lab.alertmanager.silences()
        if s.get("status", {}).get("state") != "expired"
        and (s.get("createdBy") == SILENCE_AUTHOR or s.get("id") == silence_id)
    }
    for each in sorted(ids):
        lab.alertmanager.expire_silence(each)
    return f"{len(ids)} scenario silence(s) expired" if ids else "no scenario silence active"


def take_away_all(lab: Lab, silence_id: str | None = None) -> tuple[list[str], list[str]]:
    """Restore the healthy lab; returns what was done, and what could not be (with fixes)."""
    steps: list[tuple[str, Callable[[], str]]] = [
        ("the app", lambda: _clear_app(lab)),
        ("Prometheus", lambda: _clear_prometheus(lab)),
        ("Alertmanager", lambda: _clear_alertmanager(lab)),
        ("Alertmanager's silences", lambda: _expire_silences(lab, silence_id)),
    ]
    done: list[str] = []
    failed: list[str] = []
    for what, step in steps:
        try:
            done.append(step())
        except ServiceError as exc:
            failed.append(f"{what}: {exc}")
        except Exception as exc:  # a timeout, the Docker engine: report, go on
            failed.append(f"{what}: {type(exc).__name__}: {exc}")
    return done, failed
