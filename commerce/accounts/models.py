from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.timezone import now as tz_now


def validate_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a known IANA time zone, like Europe/Paris.") from None


E164_VALIDATOR = RegexValidator(
    r"^\+[1-9]\d{6,14}$", "Enter the phone number in international E.164 form, like +14155550123."
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A shopper or staff member; the e-mail address is the login."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=16, blank=True, validators=[E164_VALIDATOR])
    timezone = models.CharField(
        max_length=64, blank=True, validators=[validate_timezone], help_text="IANA name, e.g. America/Chicago"
    )
    voice_opt_in = models.BooleanField(
        default=False, help_text="The shopper agreed to abandoned-cart recovery calls."
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=tz_now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    # Not a method here: django-otp's OTPMiddleware sets it on ``request.user`` (has this session
    # been verified with a second factor?).
    is_verified: Callable[[], bool]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split(" ")[0]


def _new_session_key() -> str:
    return "s_" + secrets.token_urlsafe(18)


def _session_expiry():
    return timezone.now() + timedelta(days=settings.SHOPPER_SESSION_TTL_DAYS)


class ShopperSessionQuerySet(models.QuerySet["ShopperSession"]):
    def active(self) -> ShopperSessionQuerySet:
        return self.filter(ended_at__isnull=True, expires_at__gt=timezone.now())


class ShopperSession(models.Model):
    """One shopper's presence on one channel; names a guest's cart and conversation alike."""

    class Channel(models.TextChoices):
        WEB = "web", "Web"
        KIOSK = "kiosk", "Kiosk"
        MOBILE = "mobile", "Mobile"
        API = "api", "API"
        VOICE = "voice", "Voice"
        MCP = "mcp", "MCP agent"

    key = models.CharField(max_length=64, unique=True, default=_new_session_key, editable=False)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    initial_context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(default=_session_expiry)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ShopperSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.key} ({self.channel})"

    def is_active(self) -> bool:
        return self.ended_at is None and self.expires_at > timezone.now()


class RatePenaltyQuerySet(models.QuerySet["RatePenalty"]):
    def active(self) -> RatePenaltyQuerySet:
        return self.filter(lifted_at__isnull=True, ends_at__gt=timezone.now())


class RatePenalty(models.Model):
    """A penalty window given to a client that kept going over its rate limit (issue 18).

    The shared cache decides whether a request is refused (every process agrees, fast); this row is
    the registry staff read and lift in the admin.
    """

    client = models.CharField(max_length=200, db_index=True, help_text="user:<id> or ip:<address>")
    level = models.PositiveSmallIntegerField(help_text="1 for the first penalty, growing with each repeat")
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RatePenaltyQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "rate-limit penalty"
        verbose_name_plural = "rate-limit penalties"

    def __str__(self) -> str:
        return f"{self.client} level {self.level} until {self.ends_at:%Y-%m-%d %H:%M:%S}"

    def is_active(self) -> bool:
        return self.lifted_at is None and self.ends_at > timezone.now()


class AccessTokenQuerySet(models.QuerySet["PersonalAccessToken"]):
    def active(self) -> AccessTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class PersonalAccessToken(models.Model):
    """A shopper's own key for an outside agent (MCP client, script): ``Authorization: Bearer pat_...``.

    Only the SHA-256 of the secret is stored (the secret is random, 256 bits, so a slow hash adds
    nothing); the shopper sees the secret once, when it is made. ``scopes`` bound what it may do:
    ``read`` looks, ``cart`` also changes the cart, ``orders`` also places orders (every scope reads).
    """

    class Scope(models.TextChoices):
        READ = "read", "Read: search, product details, cart, orders and their status"
        CART = "cart", "Cart: add, change and remove cart lines"
        ORDERS = "orders", "Orders: check out (each order confirmed with a prepare step)"

    PREFIX = "pat_"  # commerce.accounts.authentication.TOKEN_PREFIX, which cannot import models

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=80)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the secret, shown in the list so the shopper can tell tokens apart.
    hint = models.CharField(max_length=12, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "personal access token"

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def allows(self, scope: str) -> bool:
        """Every token reads; ``cart`` and ``orders`` must have been granted by name."""
        return scope == self.Scope.READ or scope in self.scopes
