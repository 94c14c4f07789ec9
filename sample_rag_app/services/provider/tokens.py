"""The lab's token counter, price table and model names, as the provider answers them.

The values are copies of `sample_rag_app.pipeline.llm`'s (a service may not import the
app's pipeline); tests/unit/sample_rag_app/services/provider/test_provider_contract.py
fails when the two differ, so a price changed in one place is changed in both.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A simple deterministic tokenizer: every word and every punctuation mark is a token."""
    return len(_TOKEN.findall(text))


def split_tokens(text: str) -> list[str]:
    """The text cut at token starts, whitespace kept with the token before it, so the
    pieces joined are the text again: the chunks of a streamed answer."""
    starts = [match.start() for match in _TOKEN.finditer(text)]
    if not starts:
        return [text] if text else []
    bounds = [0, *starts[1:], len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


#: USD per 1000 (prompt, completion) tokens: the pipeline's PRICE_TABLE.
PRICE_TABLE: Final[dict[str, tuple[float, float]]] = {
    "gpt-4o-mini": (0.00015, 0.0006),
    "gpt-4o": (0.0025, 0.01),
    "gpt-4.1-mini": (0.0004, 0.0016),
    "gpt-4.1-nano": (0.0001, 0.0004),
    "gpt-4.1": (0.002, 0.008),
    "gpt-3.5-turbo": (0.0005, 0.0015),
}

#: The embedding models the provider answers, and the vector length of each by default.
EMBEDDING_MODELS: Final[dict[str, int]] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
}


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """The price of one call from the price table (0 for a model the table does not list)."""
    price = PRICE_TABLE.get(model)
    if price is None:
        return 0.0
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1000.0
