"""The API at /api/v1: one NinjaAPI; each app adds its router in ``ROUTERS``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from vefa.common.api import api_auth, error_response, ninja_validation_response
from vefa.common.errors import ApplicationError

api = NinjaAPI(
    title="Vefa API",
    version="1",
    description="The Vefa CRM API. Authenticate with a personal token: "
    "`Authorization: Bearer vefa_…` (create one with `vefa token create --user EMAIL`).",
    auth=api_auth,
    urls_namespace="api",
)

# Each app's ``api.py`` exposes ``router`` with its own paths; the order here fixes the order
# of the OpenAPI document, which is committed and checked for drift.
API_APPS = [
    "vefa.accounts",
    "vefa.platform",
    "vefa.customers",
    "vefa.interactions",
    "vefa.sales",
    "vefa.service",
    "vefa.marketing",
    "vefa.analytics",
    "vefa.imports",
    "vefa.exports",
    "vefa.privacy",
    "vefa.dedupe",
    "vefa.quality",
    "vefa.integrations",
]


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return error_response(exc)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return ninja_validation_response(list(exc.errors))


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(_Unauthorized("Authentication required."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    err = ApplicationError(str(exc))
    err.status_code = exc.status_code
    return error_response(err)


class _Unauthorized(ApplicationError):
    status_code = 401
    code = "unauthorized"


for _app in API_APPS:
    if importlib.util.find_spec(f"{_app}.api") is not None:
        api.add_router("", import_module(f"{_app}.api").router)
