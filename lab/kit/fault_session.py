"""The one way the lab breaks the app and puts it back: a fault session over its admin API.

`lab drill`, `lab experiment` and `lab scenario` all change the app's faults (the first
two its resilience settings too) through a `FaultSession`, never through the admin API
directly:

    with FaultSession(app) as session:
        session.set_faults(llm_error_rate=0.3)
        ...
    # however the block ended (normally, an exception, Ctrl-C): the app is as found

Entering takes the snapshot of the faults; the resilience settings are read just before
the session first changes them, so a session that never touches them never asks. Leaving
puts back what was found, the resilience settings first, then the faults: the app's
defaults (`DELETE`) plus whatever the snapshot held beyond them, a running outage or
latency spike for the time it had left. Each step is tried even when an earlier one
fails or a second Ctrl-C interrupts it; the first failure is raised. A part can be put
back early (`restore_faults`, `restore_resilience`): a drill clears its fault the moment
the alert is notified, then waits for recovery before the settings go back.

Two properties of a session, not other mechanisms, make what a scenario needs:

- `persist`: the faults also go into the lab-owned faults file, which the app applies
  at start-up (`RAG_FAULTS_FILE`, see `lab.kit.owned_files`), so they survive a restart
  of the app. Behind the gateway an admin call reaches one replica: with several, every
  replica is restarted on the file instead of being called. What a persisted session
  puts back is the app's defaults and no file, not a snapshot: what it sets outlives the
  command that could have taken one, so the command that ends it (`lab scenario reset`,
  `restore()` on a fresh session) knows only the defaults.
- `keep`: a normal exit leaves the faults in place (`lab scenario start`); an exception
  or Ctrl-C still puts everything back.

Without `persist` the session reaches the replica the admin API reaches: the commands
that use it so refuse to run on several (`lab.kit.replicas`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

from lab.kit import owned_files

#: Fault fields the app reports but does not accept back (countdowns of timed faults).
_COUNTDOWN_SUFFIX = "_remaining_seconds"


class FaultAdmin(Protocol):
    """The app's admin API as the session drives it; `lab.kit.clients.app.AppClient` is one,
    and so is the experiment's in-process app."""

    def faults(self) -> dict[str, Any]: ...

    def set_faults(self, **faults: Any) -> dict[str, Any]: ...

    def clear_faults(self) -> dict[str, Any]: ...

    def resilience(self) -> dict[str, Any]: ...

    def set_resilience(self, **fields: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Persistence:
    """Where a session's faults outlive the app's process: the faults file it reads at
    start-up, how many replicas run, and how to restart them all on the file (returning
    once they are ready)."""

    file: Path
    replicas: Callable[[], int]
    restart_app: Callable[[], None]


def restorable_faults(faults: Mapping[str, Any]) -> dict[str, Any]:
    """What `PUT /admin/faults` needs to bring back the faults `GET` showed.

    The countdowns are not fields a PUT takes: an outage or a latency spike that was
    running resumes for the time it had left.
    """
    timed = {"latency_spike_seconds", *(k for k in faults if k.endswith(_COUNTDOWN_SUFFIX))}
    body = {k: v for k, v in faults.items() if k not in timed}
    outage_left = float(faults.get("llm_outage_remaining_seconds") or 0.0)
    spike_left = float(faults.get("latency_spike_remaining_seconds") or 0.0)
    if outage_left > 0:
        body["llm_outage_seconds"] = outage_left
    if spike_left > 0:
        body["latency_spike_seconds"] = faults.get("latency_spike_seconds", 0.0)
        body["latency_spike_duration_seconds"] = spike_left
    return body


class FaultSession:
    """Changes to the app's faults and resilience settings, put back on leaving."""

    def __init__(
        self,
        app: FaultAdmin,
        *,
        persist: Persistence | None = None,
        keep: bool = False,
        on_restored: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.persist = persist
        self.keep = keep
        #: Called once leaving has put everything back, on every exit that restores: a
        #: command can say so even when interrupted.
        self.on_restored = on_restored
        self._found_faults: dict[str, Any] = {}
        self._found_resilience: dict[str, Any] | None = None
        self._applied: dict[str, Any] = {}
        self._faults_changed = False

    def __enter__(self) -> Self:
        if self.persist is None:
            self._found_faults = restorable_faults(self.app.faults())
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.keep and kind is None:
            return
        self._restore(faults=self._faults_changed)

    # --- reading, as the admin API ---------------------------------------------------------
    def faults(self) -> dict[str, Any]:
        return self.app.faults()

    def resilience(self) -> dict[str, Any]:
        return self.app.resilience()

    # --- changing ------------------------------------------------------------------------
    def set_faults(self, **faults: Any) -> None:
        """Change the fields given (the others keep their value), in every replica."""
        self._faults_changed = True  # before the call: an interrupted PUT is put back too
        self._applied.update(faults)
        if self.persist is None:
            self.app.set_faults(**faults)
            return
        owned_files.write(self.persist.file, json.dumps(self._applied, indent=2) + "\n")
        _reach_replicas(self.persist, lambda: self.app.set_faults(**faults))

    def clear_faults(self) -> None:
        """Back to the app's defaults (a drill or an arm starting clean), in every replica."""
        self._faults_changed = True
        self._to_defaults()

    def set_resilience(self, **fields: Any) -> dict[str, Any]:
        """Change the fields given; the settings found are read first, once, to put back."""
        if self._found_resilience is None:
            self._found_resilience = self.app.resilience()
        return self.app.set_resilience(**fields)

    # --- putting back --------------------------------------------------------------------
    def restore_faults(self) -> None:
        """The faults as found, now (persisted: the defaults, no file)."""
        defaults = self._to_defaults()
        back = {k: v for k, v in self._found_faults.items() if defaults.get(k) != v}
        if back:
            self.app.set_faults(**back)
        self._faults_changed = False

    def restore_resilience(self) -> dict[str, Any] | None:
        """The resilience settings as found, now; what the app then answers, or None when
        the session has not changed them (or has put them back already)."""
        if self._found_resilience is None:
            return None
        restored = self.app.set_resilience(**self._found_resilience)
        self._found_resilience = None
        return restored

    def restore(self) -> None:
        """Everything as found, now, whatever this session changed or not: on a fresh
        persisted session, the app's defaults with no faults file (`lab scenario reset`)."""
        self._restore(faults=True)

    def _restore(self, *, faults: bool) -> None:
        steps: list[Callable[[], object]] = [self.restore_resilience]
        if faults:
            steps.append(self.restore_faults)
        failures: list[BaseException] = []
        for step in steps:
            try:
                step()
            except (Exception, KeyboardInterrupt) as exc:  # a second Ctrl-C: finish first
                failures.append(exc)
        if failures:
            raise failures[0]
        if self.on_restored is not None:
            self.on_restored()

    def _to_defaults(self) -> dict[str, Any]:
        """Clear the faults (and the faults file); the defaults then in force, as a PUT
        would take them (empty when replicas were restarted rather than asked)."""
        self._applied = {}
        if self.persist is None:
            return restorable_faults(self.app.clear_faults())
        owned_files.remove(self.persist.file)
        return restorable_faults(_reach_replicas(self.persist, self.app.clear_faults))


def _reach_replicas(persist: Persistence, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`call` on the one replica, or every replica restarted on the faults file (which
    `call` would have reached only one of); the app's answer, empty after a restart."""
    if persist.replicas() > 1:
        persist.restart_app()
        return {}
    return call()
