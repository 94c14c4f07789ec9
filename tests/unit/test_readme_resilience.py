"""The README's table of resilience mechanisms states the defaults the app really has."""

from __future__ import annotations

import re
from pathlib import Path

from sample_rag_app.pipeline.resilience.config import ResilienceConfig
from sample_rag_app.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
# "`RETRY_MAX_ATTEMPTS` (3)" or "`PACING_TARGET_PERCENT`, 90 %": a variable and its default.
STATED_DEFAULT = re.compile(r"`([A-Z_]+)`(?: \(|, )([\w.-]+)")


def _section() -> str:
    text = README.read_text()
    start = text.index("## M2.4's resilience layer in the sample app")
    return text[start : text.index("\n## ", start + 1)]


def test_every_default_the_readme_states_is_the_configs() -> None:
    """Each `VARIABLE` (default) in the resilience section matches ResilienceConfig/Settings."""
    config = ResilienceConfig()
    settings = Settings()
    stated = STATED_DEFAULT.findall(_section())
    assert len(stated) >= 8, stated
    for variable, default in stated:
        field = variable.lower()
        if hasattr(config, field):
            actual = getattr(config, field)
        else:
            actual = getattr(settings, f"resilience_{field}")
        if isinstance(actual, bool | str):
            assert str(actual) == default, (variable, actual, default)
        else:
            assert float(actual) == float(default), (variable, actual, default)
