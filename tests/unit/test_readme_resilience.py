"""The README's table of resilience mechanisms names real variables and leaves their
defaults to the rendered reference (docs/settings.md), so none is retyped."""

from __future__ import annotations

import re
from pathlib import Path

from sample_rag_app.runtime.variables import variables
from sample_rag_app.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
#: The table's header says the variables are RAG_RESILIENCE_…; rows give the rest.
TABLE_VARIABLE = re.compile(r"`([A-Z][A-Z_]+)`")


def _section() -> str:
    text = README.read_text()
    start = text.index("## M2.4's resilience layer in the sample app")
    return text[start : text.index("\n## ", start + 1)]


def _table_rows(section: str) -> list[str]:
    return [line for line in section.splitlines() if line.startswith("| ") and "`" in line][1:]


def test_every_variable_the_table_names_is_read_by_the_app() -> None:
    """Each `NAME` in a row is RAG_RESILIENCE_<NAME>, a variable the settings read."""
    known = {variable.name for variable in variables(Settings)}
    named = [name for row in _table_rows(_section()) for name in TABLE_VARIABLE.findall(row)]
    assert len(named) >= 14, named
    assert [name for name in named if f"RAG_RESILIENCE_{name}" not in known] == []


def test_the_section_points_to_the_rendered_defaults() -> None:
    """Defaults are read in the reference rendered from the models, not retyped here."""
    section = _section()
    assert "docs/settings.md" in section
    assert [row for row in _table_rows(section) if re.search(r"`[A-Z_]+` \(\d", row)] == []
