"""docs/settings.md is the settings models rendered, so no default in it is retyped."""

from __future__ import annotations

from pathlib import Path

from sample_rag_app.settings_reference import SERVICES, render

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "settings.md"


def test_the_committed_reference_is_the_rendered_one() -> None:
    """A changed default, range or description fails here until the reference is rendered:
    `python -m sample_rag_app.settings_reference > docs/settings.md`."""
    assert REFERENCE.read_text() == render()


def test_the_reference_lists_every_variable_of_every_service() -> None:
    """Each service's section has a row per field, the groups' fields included."""
    text = render()
    for _, _, model in SERVICES:
        assert f"`{model.model_config['env_prefix']}" in text
    for variable in ("RAG_RESILIENCE", "RAG_FAULT_LLM_ERROR_RATE", "GATEWAY_UPSTREAM_HOST"):
        assert f"| `{variable}` |" in text
    assert "| `RAG_FAULT_LLM_ERROR_RATE` | `0.01` | a number from 0 to 1 |" in text
