"""What the composition root leaves on ``app.state`` for the routes, read with its type."""

from __future__ import annotations

from fastapi import FastAPI, Request

from sample_rag_app.pipeline.service import RagPipeline
from sample_rag_app.settings import Settings


def pipeline_of(request: Request) -> RagPipeline:
    """The app's pipeline (it holds the faults and the resilience layer too)."""
    pipeline: RagPipeline = request.app.state.pipeline
    return pipeline


def settings_of(app: FastAPI) -> Settings:
    """The settings the app was built from."""
    settings: Settings = app.state.settings
    return settings
