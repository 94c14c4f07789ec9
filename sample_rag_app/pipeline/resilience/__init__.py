"""The resilience layer around the pipeline's dependency calls (the course's M2.4).

Off by default (``RAG_RESILIENCE``: the course's "before"); each mechanism has its own
switch and works only while the master switch is on, and the admin API changes them at
run time. Everything runs on the app's clock and random source:

- ``retry``: retries with full-jitter exponential backoff (tenacity) and a retry budget;
- ``breaker``: a circuit breaker per dependency (llm, vector_store);
- ``layer``: per-call timeouts and the request deadline, and the pieces put together;
- ``admission``: bounded LLM calls in flight and a bounded wait queue (load shedding);
- ``pacing``: waiting for room under the provider's rate limit.

The fallback chain (secondary model, stale cached answer, extractive answer) is in the
pipeline itself (``sample_rag_app.pipeline.service``), which knows those levels.
"""
