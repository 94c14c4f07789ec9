"""The admin endpoints: /admin/faults and /admin/resilience, each built by ``admin_resource``.

An admin resource is one configuration of the running app that an operator shows
(GET), changes in part (PUT, a strict partial body) and resets to the start-up settings
(DELETE), behind the bearer token, with one warning line per change. Both resources are
that, so they are declared (``AdminResource``: the models and how to read, change and
reset the configuration) and built by one function; a third would be one declaration.
Every admin route is async and never blocks, so an operator clearing a fault is
answered however many slow queries hold the worker threads.
"""

from __future__ import annotations

import hmac
import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from sample_rag_app.pipeline.faults import FaultStatus, FaultUpdate
from sample_rag_app.pipeline.resilience.config import ResilienceConfig, ResilienceUpdate
from sample_rag_app.pipeline.service import RagPipeline
from sample_rag_app.transport.errors import ApiError, documented
from sample_rag_app.transport.state import pipeline_of, settings_of

_log = structlog.get_logger("sample_rag_app.admin")

#: What every admin operation may answer besides its success.
ADMIN_ERRORS = documented("unauthorized", "admin_disabled", "invalid_body")
#: What a PUT with a body may answer besides the above.
BODY_ERRORS = documented("malformed_json", "invalid_framing", "body_too_large")

State = TypeVar("State", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation's OpenAPI summary and description."""

    summary: str
    description: str


@dataclass(frozen=True, slots=True)
class AdminResource(Generic[State]):
    """One configuration an operator shows, changes and resets at ``/admin/<name>``.

    ``state`` is what every operation answers, ``change`` the PUT body; ``read``,
    ``apply`` (ValueError when the change cannot be made) and ``reset`` reach the
    configuration through the pipeline that holds it. The audit lines are
    ``<name>_updated`` with the fields the change set and ``<name>_reset`` with the state
    reset to.
    """

    name: str
    state: type[State]
    change: type[BaseModel]
    read: Callable[[RagPipeline], State]
    apply: Callable[[RagPipeline, BaseModel], State]
    reset: Callable[[RagPipeline], State]
    get: Operation
    put: Operation
    delete: Operation


FAULTS = AdminResource(
    name="faults",
    state=FaultStatus,
    change=FaultUpdate,
    read=lambda pipeline: pipeline.faults.status(),
    apply=lambda pipeline, change: pipeline.faults.update(change),
    reset=lambda pipeline: pipeline.faults.reset(),
    get=Operation(
        "Show the injected faults",
        "The faults in force, with the time left of an outage or a latency spike.",
    ),
    put=Operation(
        "Change the injected faults",
        "Change the fields given (the others keep their value); returns the new faults.\n\n"
        "`llm_outage_seconds` starts a provider outage of the primary model from now;\n"
        "`latency_spike_seconds` with `latency_spike_duration_seconds` starts a latency "
        "spike.",
    ),
    delete=Operation(
        "Reset the injected faults to the configured defaults",
        "Back to the defaults from the settings (RAG_FAULT_*); ends any outage or spike.",
    ),
)

RESILIENCE = AdminResource(
    name="resilience",
    state=ResilienceConfig,
    change=ResilienceUpdate,
    read=lambda pipeline: pipeline.resilience.config,
    apply=lambda pipeline, change: pipeline.resilience.update(change),
    reset=lambda pipeline: pipeline.resilience.reset(),
    get=Operation(
        "Show the resilience configuration",
        "The master switch, the switch of each mechanism and the parameters in force.",
    ),
    put=Operation(
        "Change the resilience configuration",
        "Change the fields given (the others keep their value); returns the new "
        "configuration.\n\n"
        'Types are strict (no `"0.5"` for a number, no `"yes"` for a boolean); an unknown '
        "field\nor a value out of range is 422 with a message naming the allowed values.",
    ),
    delete=Operation(
        "Reset the resilience configuration to the settings",
        "Back to the configuration from the settings (RAG_RESILIENCE, RAG_RESILIENCE_*).",
    ),
)


def _require_admin(request: Request) -> None:
    token = settings_of(request.app).admin_token
    if token is None:
        raise ApiError(
            "admin_disabled",
            "the admin endpoints are disabled: set RAG_ADMIN_TOKEN to enable them",
        )
    scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(), expected):
        raise ApiError(
            "unauthorized",
            "a valid bearer token is required (Authorization: Bearer <RAG_ADMIN_TOKEN>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


class AdminRoute(APIRoute):
    """A route of the admin router: the token is checked before anything else is done with
    the request. (A dependency would run only after FastAPI parsed the body, so malformed
    JSON would get a 400 and an invalid body a 422 before the caller proved who they are.)
    Admin body models are strict ("0.5" is no number, 1 no boolean); a test checks every
    admin operation for both."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def token_first(request: Request) -> Response:
            _require_admin(request)
            return await handler(request)

        return token_first


def _invalid_change(exc: ValueError) -> ApiError:
    message = str(exc)
    if isinstance(exc, ValidationError):  # the merged configuration broke a rule across fields
        message = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    return ApiError("invalid_body", message)


def _audit(request: Request, event: str, **fields: Any) -> None:
    """One warning line per admin change: who broke the app on purpose shows in its logs."""
    if settings_of(request.app).logging_enabled:
        _log.warning(event, **fields)


def admin_resource(router: APIRouter, resource: AdminResource[State]) -> None:
    """Add GET, PUT and DELETE ``/<name>`` for ``resource`` to ``router``."""
    name = resource.name

    async def show(request: Request) -> State:
        return resource.read(pipeline_of(request))

    async def change(change: BaseModel, request: Request) -> State:
        try:
            state = resource.apply(pipeline_of(request), change)
        except ValueError as exc:
            raise _invalid_change(exc) from exc
        _audit(request, f"{name}_updated", **change.model_dump(exclude_none=True))
        return state

    # The body's model is the resource's: FastAPI reads it from the signature.
    change.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "change", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=resource.change
            ),
            inspect.Parameter(
                "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
            ),
        ]
    )

    async def reset(request: Request) -> State:
        state = resource.reset(pipeline_of(request))
        _audit(request, f"{name}_reset", **state.model_dump())
        return state

    path = f"/{name}"
    for method, endpoint, operation, responses in (
        ("GET", show, resource.get, None),
        ("PUT", change, resource.put, BODY_ERRORS),
        ("DELETE", reset, resource.delete, None),
    ):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            name=f"{method.lower()}_{name}",  # the operation id: get_faults_admin_faults_get
            response_model=resource.state,
            responses=responses,
            summary=operation.summary,
            description=operation.description,
        )


admin_router = APIRouter(
    prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS, route_class=AdminRoute
)
admin_resource(admin_router, FAULTS)
admin_resource(admin_router, RESILIENCE)
