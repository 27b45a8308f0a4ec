"""Template helpers of the web UI: localized names, figures, money, optional links."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.urls import NoReverseMatch, reverse

from market import display

register = template.Library()

DASH = "—"


@register.filter
def local_name(obj: object) -> str:
    """A region's, hub's or profile's name in the active language."""
    return display.local_name(obj)


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def figure(value: object) -> str:
    """A datasheet figure without trailing zeros, thousands grouped; "—" when absent."""
    number = _decimal(value)
    if number is None or not number.is_finite():
        return DASH
    normalized = number.normalize()
    if normalized == normalized.to_integral_value():
        normalized = normalized.quantize(Decimal(1))
    return f"{normalized:,f}"


@register.filter
def fixed(value: object, places: int = 2) -> str:
    """`value` rounded half-up to `places` decimals, thousands grouped."""
    number = _decimal(value)
    if number is None or not number.is_finite():
        return DASH
    exponent = Decimal(1).scaleb(-int(places))
    return f"{number.quantize(exponent, ROUND_HALF_UP):,f}"


@register.filter
def percent(value: object) -> str:
    """A 0-1 share as a percentage; "" for None (the template says "unknown")."""
    number = _decimal(value)
    if number is None:
        return ""
    return f"{(number * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


@register.filter
def missing_metrics(factor: object) -> str:
    return display.missing_metrics_label(factor)  # type: ignore[arg-type]


@register.simple_tag
def optional_url(name: str, *args: object) -> str:
    """The URL of `name`, or "" while no such URL exists (e.g. login, not built yet)."""
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return ""
