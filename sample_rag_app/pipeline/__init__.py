"""The RAG pipeline: pure Python (no web framework), reporting through a telemetry interface."""
