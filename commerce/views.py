"""Site-wide error pages: JSON for the API, templates for people."""

from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader

from commerce.errors import error_response
from commerce.middleware import API_PREFIX


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_response(404, "not_found", "No such endpoint or resource.")
    return render(request, "404.html", status=404)


# The database did not answer (down, unreachable, or a statement over DB_STATEMENT_TIMEOUT_MS).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def _database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After; the page is rendered without context processors (they read the database)."""
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        response = error_response(
            503, "service_unavailable", "The store cannot reach its database; try again shortly."
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the uncaught exception, so it is still the current one.
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_UNAVAILABLE) or (
        isinstance(exc, DatabaseError) and isinstance(exc.__cause__, DATABASE_UNAVAILABLE)
    ):
        return _database_unavailable(request)
    if request.path.startswith(API_PREFIX):
        return error_response(500, "server_error", "Something went wrong on our side; it has been logged.")
    return render(request, "500.html", status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_response(400, "bad_request", "The request could not be understood.")
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_response(403, "forbidden", "You are not allowed to do that.")
    return render(request, "403.html", status=403)
