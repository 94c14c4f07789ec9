"""Every service's one way to read its settings at start-up: settings that cannot work
stop the process with exit status 2 and one line per bad environment variable.

The person starting a container sets variables, not fields: each line names the variable
(``RAG_FAULT_LLM_ERROR_RATE``, not ``faults.llm_error_rate``), what is wrong with the
value and what the variable allows, on stderr and without a traceback.
"""

from __future__ import annotations

import sys
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings

from sample_rag_app.runtime.variables import allowed_values, variable_at

#: The exit status of a start refused for its settings (a usage error, as for a bad flag).
BAD_SETTINGS_EXIT = 2

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def _problem(error: ErrorDetails) -> str:
    """pydantic's message without its "Value error, " lead-in, which tells a reader nothing."""
    context: dict[str, Any] = dict(error.get("ctx") or {})
    if error["type"] == "value_error" and "error" in context:
        return str(context["error"])
    return str(error["msg"])


def settings_problems(model: type[BaseSettings], error: ValidationError) -> list[str]:
    """One line per bad variable: its name, the problem, the value given, what it allows."""
    lines = []
    for item in error.errors():
        variable, field = variable_at(model, tuple(item["loc"]))
        given = "" if isinstance(item["input"], dict) else f", got {item['input']!r}"
        allowed = allowed_values(field) if field is not None else None
        allows = f" (allowed: {allowed})" if allowed else ""
        lines.append(f"  {variable}: {_problem(item)}{given}{allows}")
    return lines


def load_settings(model: type[SettingsT], service: str) -> SettingsT:
    """The service's settings from its environment, or exit 2 saying which variables to fix."""
    try:
        return model()
    except ValidationError as error:
        print(
            f"the {service} cannot start with these settings:",
            *settings_problems(model, error),
            sep="\n",
            file=sys.stderr,
        )
        raise SystemExit(BAD_SETTINGS_EXIT) from None
