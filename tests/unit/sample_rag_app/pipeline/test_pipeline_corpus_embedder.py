"""The bundled corpus and the deterministic hashing embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sample_rag_app.pipeline.corpus import CorpusError, load_corpus, parse_corpus
from sample_rag_app.pipeline.embedder import HashingEmbedder


def test_bundled_corpus_has_at_least_100_unique_passages_on_the_five_topics() -> None:
    """The bundled corpus loads with 100+ passages, unique ids and all five topics."""
    passages = load_corpus()
    assert len(passages) >= 100
    assert len({p.id for p in passages}) == len(passages)
    assert {p.id.split("-")[0] for p in passages} == {
        "rag", "cache", "prompt", "monitoring", "resilience",
    }  # fmt: skip
    assert all(p.title and len(p.text) > 80 for p in passages)


def test_corpus_file_path_is_read(tmp_path: Path) -> None:
    """A corpus path in the settings replaces the bundled corpus."""
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a", "title": "T", "text": "x"}\n\n', encoding="utf-8")
    assert [p.id for p in load_corpus(path)] == ["a"]


@pytest.mark.parametrize(
    "text",
    ["", "not json\n", '{"id": "a"}\n', '{"id":"a","title":"t","text":"x"}\n' * 2],
)
def test_malformed_corpus_is_rejected(text: str) -> None:
    """An empty corpus, a bad line, a missing field or a duplicate id raises CorpusError."""
    with pytest.raises(CorpusError):
        parse_corpus(text)


def test_embedder_is_deterministic_across_instances() -> None:
    """Two embedders give bit-identical vectors for the same text (no salted hash)."""
    text = "How does a response cache lower RAG cost?"
    assert HashingEmbedder(256).embed(text) == HashingEmbedder(256).embed(text)


def test_embeddings_are_unit_length_with_the_configured_dimensions() -> None:
    """Embeddings have the configured length and an L2 norm of 1."""
    vector = HashingEmbedder(128).embed("circuit breakers open after repeated failures")
    assert len(vector) == 128
    assert vector.entries
    assert all(0 <= index < 128 for index in vector.entries)
    assert vector.norm() == pytest.approx(1.0, abs=1e-9)


def test_text_without_features_embeds_to_zeros() -> None:
    """Text with only punctuation or stop words gives the zero vector, not NaN."""
    vector = HashingEmbedder(64).embed("?! the of")
    assert not vector.entries
    assert vector.norm() == 0.0


def test_similar_texts_score_higher_than_unrelated_ones() -> None:
    """Texts sharing vocabulary have a higher cosine similarity than unrelated texts."""
    embedder = HashingEmbedder(512)
    query = embedder.embed("cache hit rate")
    related = embedder.embed("The cache hit rate is hits divided by lookups.")
    unrelated = embedder.embed("Prompt injection hides instructions inside documents.")
    assert query.dot(related) > query.dot(unrelated)
    assert query.dot(query) == pytest.approx(1.0)


def test_embed_many_matches_embed() -> None:
    """embed_many returns, in order, the vectors embed returns."""
    embedder = HashingEmbedder(64)
    texts = ["alpha beta", "gamma delta"]
    assert embedder.embed_many(texts) == [embedder.embed(t) for t in texts]
