"""Steady synthetic traffic for the sample RAG app
(``python -m sample_rag_app.services.loadgen``)."""
