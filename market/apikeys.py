"""API keys: create (the key is returned once, stored as its SHA-256), revoke, and
resolve a presented key to its row.

Services run in the caller's transaction; `apikey_resolve` is the read the
authentication class does on every request.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from market.exceptions import MarketError
from market.models import ApiKey
from market.persistence import apikey_with_owner

KEY_BYTES = 32
PREFIX_LENGTH = 8
# last_used_at is written at most this often per key: not a write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    key: str  # the secret itself: shown once, never stored


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def apikey_create(
    *, user: AbstractBaseUser, name: str, expires_at: datetime | None = None
) -> CreatedKey:
    """A new key for `user`. Returns the row and the key, which only the caller
    ever sees."""
    name = name.strip()
    if not name or len(name) > 100:
        raise MarketError(
            "A key needs a name of 1 to 100 characters.",
            fields={"name": ["1 to 100 characters."]},
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise MarketError(
            "expires_at must be in the future.",
            fields={"expires_at": ["Must be in the future."]},
        )
    key = secrets.token_urlsafe(KEY_BYTES)
    while key.startswith("-"):  # a command line would read it as an option
        key = secrets.token_urlsafe(KEY_BYTES)
    api_key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        digest=key_digest(key),
        expires_at=expires_at,
    )
    return CreatedKey(api_key=api_key, key=key)


def apikey_revoke(*, user: AbstractBaseUser, key_id: int) -> ApiKey:
    """Revoke one of the user's keys (idempotent: a revoked key stays revoked)."""
    api_key = ApiKey.objects.filter(pk=key_id, user=user).first()
    if api_key is None:
        raise MarketError(f"No API key {key_id}.", fields={"key": ["Unknown key."]})
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=api_key.revoked_at
        )
    return api_key


def apikey_resolve(key: str) -> ApiKey | None:
    """The usable key row for a presented key (with its user and participant), or
    None for an unknown, revoked or expired key, or an inactive user."""
    api_key = apikey_with_owner(key_digest(key))
    now = timezone.now()
    if api_key is None or not api_key.is_usable(now) or not api_key.user.is_active:
        return None
    last = api_key.last_used_at
    if last is None or now - last >= LAST_USED_RESOLUTION:
        # A conditional update: concurrent requests write it once.
        ApiKey.objects.filter(pk=api_key.pk).exclude(
            last_used_at__gt=now - LAST_USED_RESOLUTION
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
