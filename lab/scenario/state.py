"""The running scenario, kept in the lab-owned state directory so that it survives a
restart of the lab (`docker compose restart`, `down` and `up`) and of the shell.

The file holds what the grading needs and nothing the learner should read for answers:
the scenario's name, when it started, how many hints were shown, the wrong causes named,
and the id of anything the scenario created (a silence) so `reset` can take it away.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from lab.kit import owned_files
from lab.kit.exit_codes import BadInput


class ScenarioState(BaseModel):
    scenario: str
    started_at: datetime
    hints_shown: int = Field(0, ge=0)
    wrong_causes: list[str] = Field(default_factory=list)
    silence_id: str | None = None

    def elapsed_seconds(self, now: datetime | None = None) -> float:
        return max(0.0, ((now or datetime.now(UTC)) - self.started_at).total_seconds())


class StateError(BadInput):
    """The state file exists but cannot be read: `lab scenario reset` clears it."""


class StateStore:
    """`scenario.json` in the state directory; written atomically."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / owned_files.STATE_FILE

    def load(self) -> ScenarioState | None:
        try:
            return ScenarioState.model_validate(json.loads(self.path.read_bytes()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, ValidationError) as exc:  # bytes, a directory, a shape
            problem = exc.strerror if isinstance(exc, OSError) else str(exc).splitlines()[0]
            raise StateError(f"{self.path} is not a scenario's state ({problem})") from None

    def save(self, state: ScenarioState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.partial")
        partial.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
        os.chmod(partial, 0o644)
        os.replace(partial, self.path)

    def clear(self) -> bool:
        """Forget the running scenario; True when there was one."""
        if self.path.is_dir() and not self.path.is_symlink():
            shutil.rmtree(self.path)  # whatever stands there is not a running scenario
            return True
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True
