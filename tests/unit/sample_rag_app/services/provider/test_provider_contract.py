"""The provider's copies of the pipeline's tokenizer, prices and fault model stay equal to
the originals (the provider may not import the pipeline, so these tests tie them)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sample_rag_app.pipeline import llm
from sample_rag_app.pipeline.faults import FaultConfig, FaultWindows
from sample_rag_app.services.provider import tokens
from sample_rag_app.services.provider.faults import ProviderFaults, ProviderFaultWindows

#: The simulator's faults that are not the provider's: the app's own vector store, and
#: the telemetry faults that make the app's signals lie.
APP_ONLY_FAULTS = {
    "vector_store_down",
    "rename_latency_metric",
    "label_queries_by_user",
    "lose_correlation_id",
    "errors_as_empty_answers",
}


def test_the_price_table_is_the_pipelines() -> None:
    """Every model and price of the pipeline's table, and no other."""
    expected = {
        model: (price.prompt_per_1k, price.completion_per_1k)
        for model, price in llm.PRICE_TABLE.items()
    }
    assert expected == tokens.PRICE_TABLE
    assert tokens.cost_usd("gpt-4o", 1200, 345) == llm.cost_usd("gpt-4o", 1200, 345)


@given(st.text())
def test_the_tokenizer_counts_as_the_pipelines(text: str) -> None:
    """Any text has as many tokens for the provider as for the pipeline's counter."""
    assert tokens.count_tokens(text) == llm.count_tokens(text)


@given(st.text())
def test_the_stream_pieces_join_to_the_text_and_count_one_token_each(text: str) -> None:
    """Streaming cuts an answer into pieces that lose nothing and hold one token each."""
    pieces = tokens.split_tokens(text)
    assert "".join(pieces) == text
    assert sum(tokens.count_tokens(p) for p in pieces) == tokens.count_tokens(text)


def _shape(model: type[object], name: str) -> tuple[object, object, object]:
    field = model.model_fields[name]  # type: ignore[attr-defined]
    return field.annotation, field.default, field.metadata


def test_the_fault_model_mirrors_the_simulators_llm_faults() -> None:
    """Same names, types, defaults and ranges as FaultConfig's LLM faults and FaultWindows;
    a new LLM fault in the simulator fails here until the provider has it too."""
    assert set(FaultConfig.model_fields) - set(ProviderFaults.model_fields) == APP_ONLY_FAULTS
    for name in ProviderFaults.model_fields:
        assert _shape(ProviderFaults, name) == _shape(FaultConfig, name), name
    assert set(ProviderFaultWindows.model_fields) == set(FaultWindows.model_fields)
    for name in FaultWindows.model_fields:
        assert _shape(ProviderFaultWindows, name) == _shape(FaultWindows, name), name
