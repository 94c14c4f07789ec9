"""docs/settings.md is the settings models rendered, so no default in it is retyped."""

from __future__ import annotations

import re
from pathlib import Path

from sample_rag_app.runtime.variables import variables
from sample_rag_app.settings_reference import SERVICES, render

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "settings.md"
#: "`RAG_MAX_BODY_BYTES` (16384)" or "`LOADGEN_RATE_PER_SECOND` (default 2)" in prose.
STATED = re.compile(r"`((?:RAG|GATEWAY|LOADGEN|ALERT_SINK)_[A-Z_]+)` \((?:default )?([^)\s]+)\)")


def test_the_committed_reference_is_the_rendered_one() -> None:
    """A changed default, range or description fails here until the reference is rendered:
    `python -m sample_rag_app.settings_reference > docs/settings.md`."""
    assert REFERENCE.read_text() == render()


def test_the_reference_lists_every_variable_of_every_service() -> None:
    """Each service's section has a row per field, the groups' fields included."""
    text = render()
    for _, _, model in SERVICES:
        assert f"`{model.model_config['env_prefix']}" in text
    for variable in ("RAG_RESILIENCE", "RAG_FAULT_LLM_ERROR_RATE", "LOADGEN_RATE_PER_SECOND"):
        assert f"| `{variable}` |" in text
    assert "| `RAG_FAULT_LLM_ERROR_RATE` | `0.01` | a number from 0 to 1 |" in text


def test_every_default_the_docs_state_beside_a_variable_is_the_models() -> None:
    """`VARIABLE` (default) in the README and docs/ (the limits tables) is the field's default."""
    defaults = {
        variable.name: variable.default for _, _, model in SERVICES for variable in variables(model)
    }
    root = REFERENCE.parents[1]
    stated = [
        (path.name, name, value)
        for path in (root / "README.md", *sorted((root / "docs").glob("*.md")))
        for name, value in STATED.findall(path.read_text())
    ]
    assert len(stated) >= 10, stated
    assert [item for item in stated if defaults.get(item[1]) != item[2]] == []
