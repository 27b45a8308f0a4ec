"""Query parameters, strictly: a parameter sent empty (`?side=`) is validated as sent,
so it is a 400 wherever the schema wants a value, never silently read as absent; and
on a list endpoint a parameter it does not know is a 400 naming it, never ignored
(the paginator checks, once the view's query serializer or filter set has said
which it reads)."""

from collections.abc import Iterable

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation

# DRF's format override, which the endpoints offering CSV read.
EVERYWHERE = frozenset({"format"})


def parse_query(serializer_class, request) -> dict:
    """The request's query parameters through an input serializer (400 if invalid)."""
    query = serializer_class(data=request.query_params.dict())
    known_query(request, query.fields)
    query.is_valid(raise_exception=True)
    return query.validated_data


def parse_whole_query(serializer_class, request) -> dict:
    """`parse_query` for a view no paginator checks (a list it builds itself): a
    parameter the serializer does not read is a 400 naming it."""
    query = serializer_class(data=request.query_params.dict())
    known_query(request, query.fields)
    refuse_unknown_query(request, ())
    query.is_valid(raise_exception=True)
    return query.validated_data


def known_query(request, names: Iterable[str]) -> None:
    """Note parameters the view reads, for `refuse_unknown_query`."""
    request.known_query = getattr(request, "known_query", frozenset()) | set(names)


def refuse_unknown_query(request, own: Iterable[str]) -> None:
    """A 400 naming every query parameter neither the view (`known_query`) nor
    the caller (`own`: the paginator's) reads."""
    known = getattr(request, "known_query", frozenset()) | set(own) | EVERYWHERE
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ValidationError({name: ["Unknown query parameter."] for name in unknown})


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that an empty filter value is a 400."""

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            known_query(request, filterset_class.base_filters)
            blank = {
                name: ["Must not be empty."]
                for name in filterset_class.base_filters
                if request.query_params.get(name) == ""
            }
            if blank:
                raise ValidationError(blank)
        return super().get_filterset(request, queryset, view)


class StrictFormatNegotiation(DefaultContentNegotiation):
    """`?format=` naming no renderer of the endpoint (or sent empty) is a 400 naming
    the formats it offers; DRF's own answer is a 404, as if the path were wrong."""

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = format_suffix or request.query_params.get(
            self.settings.URL_FORMAT_OVERRIDE
        )
        offered = [r.format for r in renderers]
        if wanted is not None and wanted not in offered:
            raise ValidationError(
                {"format": [f"Must be one of: {', '.join(offered)}."]}
            )
        return super().select_renderer(request, renderers, format_suffix)
