"""Operators' scopes (DESIGN.md "Operators"): national (everything), regional (a
hub and so its regions) or industry (the participants of one industry code).

Each admin names, per level, the lookup from its rows to the hub or the industry
(`OperatorAdmin.scope`); `scope_filter` narrows a queryset with it, and an admin
that names no lookup for a level shows that level nothing of its rows. Services that
act on a region (suspension) ask `allows_region`.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from market.exceptions import MarketError
from market.models import OperatorScope, Region


class OutOfScope(MarketError):
    """The operator's scope does not reach this."""

    code = "permission_denied"


@dataclass(frozen=True)
class Scope:
    hub_id: int | None = None
    industry: str = ""

    @property
    def national(self) -> bool:
        return self.hub_id is None and not self.industry

    def allows_region(self, region: Region) -> bool:
        if self.national:
            return True
        return self.hub_id is not None and region.hub_id == self.hub_id


NATIONAL = Scope()


def scope_of(user: AbstractBaseUser) -> Scope:
    """The user's scope, read once per user object (a request's)."""
    cached = getattr(user, "_yiwang_scope", None)
    if cached is not None:
        return cached
    scope = NATIONAL
    if not getattr(user, "is_superuser", False) and user.pk is not None:
        row = OperatorScope.objects.filter(user_id=user.pk).first()
        if row is not None:
            scope = Scope(hub_id=row.hub_id, industry=row.industry)
    user._yiwang_scope = scope  # type: ignore[attr-defined]
    return scope


@dataclass(frozen=True)
class Lookups:
    """How an admin's rows reach a hub and an industry: Django lookups along
    foreign keys such as "home_region__hub" and "participant__industry", a row
    being in scope by any of them (none: the level sees none of the rows)."""

    hub: tuple[str, ...] = ()
    industry: tuple[str, ...] = ()

    def prefixed(self, prefix: str) -> "Lookups":
        """The same lookups from a row that points to these rows by `prefix`."""
        return Lookups(
            tuple(f"{prefix}__{p}" for p in self.hub),
            tuple(f"{prefix}__{p}" for p in self.industry),
        )


PARTICIPANT = Lookups(("home_region__hub",), ("industry",))


def scope_filter(queryset: QuerySet, scope: Scope, lookups: Lookups | None):
    """`queryset` narrowed to the scope; `lookups` None means rows of no one
    (the catalogue, instruments): every level sees them."""
    if scope.national or lookups is None:
        return queryset
    if scope.hub_id is not None:
        paths, value = lookups.hub, scope.hub_id
    else:
        paths, value = lookups.industry, scope.industry
    if not paths:
        return queryset.none()
    where = Q()
    for path in paths:  # forward foreign keys only: no row twice
        where |= Q(**{path: value})
    return queryset.filter(where)


def require_region(user: AbstractBaseUser, region: Region) -> None:
    """OutOfScope unless the user's scope reaches the region."""
    if not scope_of(user).allows_region(region):
        raise OutOfScope(f"{region.code} is outside your scope.")
