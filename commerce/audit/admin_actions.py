"""Every admin action is an entry of the audit trail: who ran which action on which objects."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.http import HttpRequest

from commerce.audit.services import audit_record

MAX_IDS_RECORDED = 50


class AuditedActionsMixin:
    """Wraps each admin action so running it records ``admin.<action>`` with the selected objects."""

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        return {
            name: (_audited(func, name), name, description)
            for name, (func, _, description) in actions.items()
        }


def _audited(func: Any, name: str) -> Any:
    @wraps(func)
    def run(modeladmin: Any, request: HttpRequest, queryset: Any) -> Any:
        ids = [str(pk) for pk in queryset.values_list("pk", flat=True)[:MAX_IDS_RECORDED]]
        audit_record(
            action=f"admin.{name}",
            actor=request.user,
            object_type=modeladmin.model._meta.label_lower,
            summary={"ids": ids, "count": queryset.count(), "confirmed": "apply" in request.POST},
        )
        return func(modeladmin, request, queryset)

    return run
