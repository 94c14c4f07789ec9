"""What `lab scenario` does: list, start, hint, status, verify, reset.

Each returns an `Outcome` (the lines to print and the exit code), so the CLI stays a few
lines and the tests call these directly. A scenario runs from `start` until `verify`
passes or `reset`; the state file (`state`) is the only memory between commands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lab.kit import owned_files
from lab.kit.clients import ServiceError
from lab.kit.exit_codes import ExitCode
from lab.kit.formatting import span
from lab.kit.repository import find_root
from lab.kit.settings import LabSettings
from lab.scenario import inject
from lab.scenario.catalog import SCENARIOS
from lab.scenario.live import Lab
from lab.scenario.model import CAUSES, Grading, Scenario, Signal
from lab.scenario.score import Score
from lab.scenario.state import ScenarioState, StateError, StateStore


@dataclass
class Outcome:
    code: ExitCode
    lines: list[str] = field(default_factory=list)
    score: Score | None = None


def _menu() -> list[str]:
    lines = ["causes (`--cause ID`; those marked * need `--evidence VALUE`):"]
    for cause in CAUSES.values():
        needs = f" * evidence: {cause.evidence}" if cause.evidence else ""
        lines.append(f"  {cause.id:<22} {cause.what}{needs}")
    return lines


class Session:
    """The scenario commands against one lab and one state directory."""

    def __init__(
        self,
        lab: Lab,
        store: StateStore,
        *,
        docs_root: Path | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        scenarios: Mapping[str, Scenario] = SCENARIOS,
    ) -> None:
        self.lab = lab
        self.store = store
        self.docs_root = docs_root
        self.now = now
        self.scenarios = scenarios

    # --- reading the state -------------------------------------------------------------
    def _running(self) -> tuple[ScenarioState, Scenario] | Outcome:
        try:
            state = self.store.load()
        except StateError as exc:
            return Outcome(ExitCode.USAGE, [f"✗ {exc}", "fix: `lab scenario reset`"])
        if state is None:
            return Outcome(
                ExitCode.USAGE,
                [
                    "✗ no scenario is running",
                    "fix: `lab scenario start NAME` (`lab scenario list` shows them)",
                ],
            )
        scenario = self.scenarios.get(state.scenario)
        if scenario is None:
            return Outcome(
                ExitCode.USAGE,
                [f"✗ the state names an unknown scenario {state.scenario!r}",
                 "fix: `lab scenario reset`"],
            )  # fmt: skip
        return state, scenario

    # --- commands ------------------------------------------------------------------------
    def listing(self) -> Outcome:
        try:
            running = self.store.load()
        except StateError:
            running = None
        lines = [f"{'scenario':<22} {'signal':<11} symptom"]
        order = list(Signal)
        for scenario in sorted(self.scenarios.values(), key=lambda s: order.index(s.signal)):
            mark = "  ← running" if running and running.scenario == scenario.name else ""
            lines.append(f"{scenario.name:<22} {scenario.signal:<11} {scenario.title}{mark}")
        lines.append("start one: `lab scenario start NAME`")
        return Outcome(ExitCode.OK, lines)

    def start(self, name: str) -> Outcome:
        scenario = self.scenarios.get(name)
        if scenario is None:
            return Outcome(
                ExitCode.USAGE,
                [f"✗ no scenario {name!r}", f"choose one of: {', '.join(self.scenarios)}"],
            )
        try:
            state = self.store.load()
        except StateError as exc:
            return Outcome(ExitCode.USAGE, [f"✗ {exc}", "fix: `lab scenario reset`"])
        if state is not None:
            return Outcome(
                ExitCode.USAGE,
                [
                    f"✗ scenario {state.scenario!r} is running (for "
                    f"{span(state.elapsed_seconds(self.now()))}): one at a time",
                    "fix: finish it (`lab scenario verify`) or give it up (`lab scenario reset`)",
                ],
            )
        try:
            silence = inject.put_in_place(self.lab, scenario)
        except Exception as exc:  # whatever broke, leave no half-broken lab behind
            _, failed = inject.take_away_all(self.lab)
            return Outcome(
                ExitCode.FAILED,
                [f"✗ could not start {name}: {exc}", *(f"  ✗ {line}" for line in failed)],
            )
        self.store.save(ScenarioState(scenario=name, started_at=self.now(), silence_id=silence))
        return Outcome(
            ExitCode.OK,
            [
                f"scenario {name} started ({scenario.signal}). The report:",
                "",
                f"  {scenario.symptom}",
                "",
                "Find the cause with the lab's signals (`lab check`, Prometheus, Grafana, "
                "the logs).",
                "`lab scenario hint` gives a clue (each costs points); `lab scenario verify` "
                "checks your answer.",
            ],
        )

    def hint(self) -> Outcome:
        running = self._running()
        if isinstance(running, Outcome):
            return running
        state, scenario = running
        total = len(scenario.hints)
        more = state.hints_shown < total
        if more:
            state = state.model_copy(update={"hints_shown": state.hints_shown + 1})
            self.store.save(state)
        lines = [
            f"hint {i}/{total}: {text}"
            for i, text in enumerate(scenario.hints[: state.hints_shown], 1)
        ]
        if not more:
            lines.append("no more hints: the runbook comes with a passing `lab scenario verify`")
        return Outcome(ExitCode.OK, lines)

    def status(self) -> Outcome:
        running = self._running()
        if isinstance(running, Outcome):
            return running
        state, scenario = running
        return Outcome(
            ExitCode.OK,
            [
                f"scenario {scenario.name} ({scenario.signal}) running for "
                f"{span(state.elapsed_seconds(self.now()))}; {state.hints_shown} of "
                f"{len(scenario.hints)} hints used, {len(state.wrong_causes)} wrong cause(s)",
                f"  {scenario.symptom}",
            ],
        )

    def verify(self, cause: str | None = None, evidence: str | None = None) -> Outcome:
        running = self._running()
        if isinstance(running, Outcome):
            return running
        state, scenario = running
        try:
            if scenario.grading is Grading.FIX:
                return self._verify_fix(state, scenario)
            return self._verify_cause(state, scenario, cause, evidence)
        except ServiceError as exc:
            return Outcome(
                ExitCode.FAILED,
                [f"✗ cannot verify against the live lab: {exc}", "fix: `lab wait`, then retry"],
            )

    def _verify_fix(self, state: ScenarioState, scenario: Scenario) -> Outcome:
        still = scenario.detect(self.lab)
        if still is not None:
            return Outcome(
                ExitCode.FAILED,
                [f"✗ not fixed yet; it still shows in {scenario.detected_by}:", f"  {still}"],
            )
        return self._solved(
            state, scenario, f"✓ fixed: it no longer shows in {scenario.detected_by}"
        )

    def _verify_cause(
        self, state: ScenarioState, scenario: Scenario, cause: str | None, evidence: str | None
    ) -> Outcome:
        if cause is None:
            return Outcome(
                ExitCode.USAGE,
                [
                    "✗ this scenario is solved by naming its cause: "
                    "`lab scenario verify --cause ID [--evidence VALUE]`",
                    *_menu(),
                ],
            )
        if cause not in CAUSES:
            return Outcome(ExitCode.USAGE, [f"✗ no cause {cause!r} on the menu", *_menu()])
        if cause != scenario.cause:
            return self._wrong(state, cause, f"✗ {cause} is not what broke the lab")
        wanted = CAUSES[cause].evidence
        if wanted is not None and scenario.evidence is not None:
            if not evidence:
                return Outcome(
                    ExitCode.USAGE,
                    [f"✗ back the cause with what you saw: --evidence <{wanted}>"],
                )
            shown = scenario.evidence(self.lab)
            if not shown:
                return Outcome(
                    ExitCode.FAILED,
                    [
                        "✗ the live lab no longer shows this fault (was it changed by hand?)",
                        "fix: `lab scenario reset`, then start it again",
                    ],
                )
            if evidence.strip() not in shown:
                return self._wrong(
                    state,
                    f"{cause}:{evidence}",
                    f"✗ the right cause, but the live lab does not show {evidence!r} as {wanted}",
                )
        return self._solved(state, scenario, f"✓ {cause}: {CAUSES[cause].what}")

    def _wrong(self, state: ScenarioState, answer: str, line: str) -> Outcome:
        state = state.model_copy(update={"wrong_causes": [*state.wrong_causes, answer]})
        self.store.save(state)
        return Outcome(
            ExitCode.FAILED,
            [line, f"  {len(state.wrong_causes)} wrong so far; `lab scenario hint` helps"],
        )

    def _solved(self, state: ScenarioState, scenario: Scenario, verdict: str) -> Outcome:
        score = Score(
            seconds=state.elapsed_seconds(self.now()),
            hints_used=state.hints_shown,
            hints_total=len(scenario.hints),
            wrong_causes=len(state.wrong_causes),
        )
        done, failed = inject.take_away_all(self.lab, state.silence_id)
        self.store.clear()
        lines = [verdict, f"  {score.describe()}"]
        lines += [f"  · {line}" for line in done] + [f"  ✗ {line}" for line in failed]
        lines += ["", *self._runbook(scenario)]
        return Outcome(ExitCode.OK, lines, score)

    def _runbook(self, scenario: Scenario) -> list[str]:
        path = self.docs_root / scenario.runbook if self.docs_root else None
        if path is None or not path.is_file():
            return [f"the runbook: {scenario.runbook}"]
        return [f"── {scenario.runbook} ──", *path.read_text(encoding="utf-8").splitlines()]

    def reset(self) -> Outcome:
        try:
            state = self.store.load()
        except StateError:
            state = None
        done, failed = inject.take_away_all(self.lab, state.silence_id if state else None)
        self.store.clear()
        lines = [
            f"scenario {state.scenario} given up" if state else "no scenario was running",
            *(f"  · {line}" for line in done),
            *(f"  ✗ {line}" for line in failed),
        ]
        if failed:
            lines.append("run `lab scenario reset` again once those services answer")
            return Outcome(ExitCode.FAILED, lines)
        lines.append("the lab is healthy again: `lab check` shows it")
        return Outcome(ExitCode.OK, lines)


def open_session(settings: LabSettings, root: Path | None = None) -> Session:
    """A session on the lab `settings` describe. The state directory is
    `settings.state_dir` (LAB_STATE_DIR), else `.lab` under `root` (default: the
    repository around the working directory), where the runbooks are read too."""
    root = root if root is not None else find_root(Path.cwd())
    directory = settings.state_dir or root / owned_files.DEFAULT_DIR
    return Session(Lab.connect(settings, directory), StateStore(directory), docs_root=root)
