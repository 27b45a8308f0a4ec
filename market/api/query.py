"""Query parameters, strictly: a parameter sent empty (`?side=`) is validated as sent,
so it is a 400 wherever the schema wants a value, never silently read as absent."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


def parse_query(serializer_class, request) -> dict:
    """The request's query parameters through an input serializer (400 if invalid)."""
    query = serializer_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return query.validated_data


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that an empty filter value is a 400."""

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            blank = {
                name: ["Must not be empty."]
                for name in filterset_class.base_filters
                if request.query_params.get(name) == ""
            }
            if blank:
                raise ValidationError(blank)
        return super().get_filterset(request, queryset, view)
