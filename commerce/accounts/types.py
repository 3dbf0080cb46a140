"""The user a door hands to a service or selector, as a type.

A page or API view passes ``request.user`` (the project's :class:`User`, or Django's
``AnonymousUser`` for a guest); the assistant, voice and Celery tasks pass a :class:`User` or nothing.
Reads that also serve guests take :data:`MaybeUser`; writes that need an account take :class:`User`.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser

from commerce.accounts.models import User

MaybeUser: TypeAlias = User | AnonymousUser | None
