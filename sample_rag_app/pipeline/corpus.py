"""The passages the service answers from, loaded from a JSON-lines file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrievable passage of the corpus."""

    id: str
    title: str
    text: str


class CorpusError(ValueError):
    """The corpus file is missing, empty or has a malformed line."""


def _bundled_text() -> str:
    return resources.files("sample_rag_app").joinpath("data/corpus.jsonl").read_text("utf-8")


def parse_corpus(text: str, *, source: str = "corpus") -> list[Passage]:
    """Parse JSON lines of ``{"id", "title", "text"}`` objects; ids must be unique."""
    passages: list[Passage] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            passage = Passage(
                id=str(record["id"]), title=str(record["title"]), text=str(record["text"])
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError(f"{source}:{number}: not a passage object ({exc})") from exc
        if passage.id in seen:
            raise CorpusError(f"{source}:{number}: duplicate passage id {passage.id!r}")
        seen.add(passage.id)
        passages.append(passage)
    if not passages:
        raise CorpusError(f"{source}: no passages")
    return passages


def load_corpus(path: Path | None = None) -> list[Passage]:
    """Load the corpus from ``path``, or the one bundled with the package when it is None."""
    if path is None:
        return parse_corpus(_bundled_text(), source="bundled corpus")
    return parse_corpus(path.read_text("utf-8"), source=str(path))
