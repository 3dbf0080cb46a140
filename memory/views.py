"""``/account/memory/``: what the store remembers, with edit, forget-one and forget-all.

Forget buttons are ordinary POST forms (they work without JavaScript: redirect back with a
message); with HTMX they swap just their section (``memory/page.html#<section>``).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commerce.accounts.shoppers import SignedInRequest
from commerce.errors import DomainError
from memory import conf
from memory.api import export_filename
from memory.forms import PreferencesForm
from memory.models import Preference, PreferenceKey
from memory.selectors import affinities_list, history_queryset, preferences_get
from memory.services import (
    affinity_forget,
    history_clear,
    memory_clear,
    memory_export_for,
    preference_forget,
    preferences_update,
    summary_forget,
)

PAGE = "memory/page.html"
HISTORY_SHOWN = 50


def _context(request: SignedInRequest, form: PreferencesForm | None = None) -> dict:
    prefs = preferences_get(user=request.user)
    affinities = affinities_list(user=request.user)
    return {
        "prefs": prefs,
        "form": form or PreferencesForm(initial=PreferencesForm.initial_from(prefs)),
        "affinities": affinities,
        "affinity_groups": [
            (label, [a for a in affinities if a.kind == kind])
            for kind, label in (("brand", "Brands"), ("category", "Categories"), ("product", "Products"))
        ],
        "pref_lists": [
            (key.value, key.label, getattr(prefs, field))
            for key, field in (
                (PreferenceKey.BRANDS, "brands"),
                (PreferenceKey.DISLIKED_BRANDS, "disliked_brands"),
                (PreferenceKey.CATEGORIES, "categories"),
                (PreferenceKey.STYLES, "styles"),
                (PreferenceKey.COLORS, "colors"),
                (PreferenceKey.DISLIKED_COLORS, "disliked_colors"),
            )
        ],
        "history": list(history_queryset(user=request.user)[:HISTORY_SHOWN]),
        "half_life_days": f"{conf.half_life_days():g}",
        "retention_days": conf.summary_retention_days(),
    }


def _section(request: SignedInRequest, section: str, *, notice: str = "", error: str = "") -> HttpResponse:
    """The HTMX answer (one section) or, without JavaScript, back to the page with a message."""
    if request.htmx:
        context = _context(request)
        context.update(notice=notice, error=error)
        response = render(request, f"{PAGE}#{section}", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect("memory:page")


@login_required
@require_http_methods(["GET", "POST"])
def memory_page(request: SignedInRequest) -> HttpResponse:
    """GET shows everything; POST saves the preferences form (errors stay on the form)."""
    if request.method == "GET":
        response = render(request, PAGE, _context(request))
        patch_vary_headers(response, ["HX-Request"])
        return response
    form = PreferencesForm(request.POST)
    if form.is_valid():
        try:
            preferences_update(user=request.user, changes=form.changes(), source=Preference.Source.PAGE)
        except DomainError as exc:
            form.add_service_errors(exc.message, exc.details)
        else:
            messages.success(request, "Your preferences are saved.")
            return redirect("memory:page")
    return render(request, PAGE, _context(request, form), status=400)


@login_required
@require_POST
def preference_forget_view(request: SignedInRequest, key: str) -> HttpResponse:
    value = request.POST.get("value") or None
    try:
        forgotten = preference_forget(user=request.user, key=key, value=value)
    except DomainError as exc:
        return _section(request, "preferences", error=exc.message)
    what = f"“{value}”" if value else "that preference"
    notice = f"Forgotten: {what}." if forgotten else "There was nothing to forget."
    return _section(request, "preferences", notice=notice)


@login_required
@require_POST
def affinity_forget_view(request: SignedInRequest, affinity_id: str) -> HttpResponse:
    try:
        affinity_forget(user=request.user, affinity_id=affinity_id)
    except DomainError as exc:
        return _section(request, "affinities", error=exc.message)
    return _section(request, "affinities", notice="Forgotten.")


@login_required
@require_POST
def summary_forget_view(request: SignedInRequest, summary_id: str) -> HttpResponse:
    try:
        summary_forget(user=request.user, summary_id=summary_id)
    except DomainError as exc:
        return _section(request, "history", error=exc.message)
    return _section(request, "history", notice="Forgotten.")


@login_required
@require_POST
def history_clear_view(request: SignedInRequest) -> HttpResponse:
    count = history_clear(user=request.user)
    return _section(
        request, "history", notice=f"Forgot {count} conversation summar{'y' if count == 1 else 'ies'}."
    )


@login_required
@require_http_methods(["GET", "POST"])
def memory_clear_view(request: SignedInRequest) -> HttpResponse:
    """Forget everything: GET asks for confirmation, POST (with ``confirm``) does it."""
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        memory_clear(user=request.user)
        messages.success(request, "Done: everything the store remembered about you is forgotten.")
        return redirect("memory:page")
    if request.method == "POST":
        messages.error(request, "Tick the box to confirm, or go back.")
    return render(request, "memory/confirm_clear.html", _context(request))


@login_required
@require_GET
def memory_export_view(request: SignedInRequest) -> HttpResponse:
    body = json.dumps(memory_export_for(user=request.user), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename()}"'
    return response
