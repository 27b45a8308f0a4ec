"""Public, read-only catalogue endpoints: regions, chips, profiles, conversion,
surcharges. Thin: parse with an input serializer, read with a selector."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from market import selectors
from market.api import serializers as s
from market.api.query import StrictFilterBackend, parse_query
from market.api.schema import errors
from market.conversion import scu_h
from market.models import (
    ChipModel,
    ConversionTable,
    Region,
    SurchargeTable,
    WorkloadProfile,
)

PUBLIC_ERRORS = errors(400, 401, 429)


@extend_schema_field({"type": "string", "minLength": 1, "pattern": "^[^\\u0000]*$"})
class TextFilter(filters.CharFilter):
    """Text, not empty (StrictFilterBackend: a 400) and without NUL."""


class RegionFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Region.Role.choices)
    hub = TextFilter(field_name="hub__code")

    class Meta:
        model = Region
        fields = ["role", "hub"]


@extend_schema(responses={200: s.RegionOutput(many=True), **PUBLIC_ERRORS})
class RegionListApi(generics.ListAPIView):
    queryset = selectors.region_list()
    serializer_class = s.RegionOutput
    filter_backends = [StrictFilterBackend]
    filterset_class = RegionFilter


class ChipFilter(filters.FilterSet):
    stack = TextFilter(field_name="stack__code")
    kind = filters.ChoiceFilter(choices=ChipModel.Kind.choices)
    vendor = TextFilter()

    class Meta:
        model = ChipModel
        fields = ["stack", "kind", "vendor"]


@extend_schema(responses={200: s.ChipOutput(many=True), **PUBLIC_ERRORS})
class ChipListApi(generics.ListAPIView):
    queryset = ChipModel.objects.select_related("stack").order_by("code")
    serializer_class = s.ChipOutput
    filter_backends = [StrictFilterBackend]
    filterset_class = ChipFilter


@extend_schema(responses={200: s.ProfileOutput(many=True), **PUBLIC_ERRORS})
class ProfileListApi(generics.ListAPIView):
    queryset = WorkloadProfile.objects.select_related("reference_chip").order_by("code")
    serializer_class = s.ProfileOutput
    filter_backends = []


def _conversion_table(version: int | None) -> ConversionTable:
    if version is None:
        return selectors.conversion_table_current()
    table = ConversionTable.objects.filter(version=version).first()
    if table is None:
        raise NotFound(f"No conversion table v{version}.")
    return table


class ConversionApi(APIView):
    @extend_schema(
        parameters=[s.ConversionQuery],
        responses={200: s.ConversionOutput, **errors(400, 401, 404, 422, 429)},
    )
    def get(self, request):
        """SCU-h of `count` chips over `hours` for a profile, with the factor used."""
        query = s.ConversionQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        table = _conversion_table(data.get("version"))
        factor = selectors.conversion_factor_get(
            table=table, chip=data["chip"], profile=data["profile"]
        )
        return Response(
            s.ConversionOutput(
                {
                    "chip": data["chip"].code,
                    "profile": data["profile"].code,
                    "stack": data["chip"].stack.code,
                    "count": data["count"],
                    "hours": data["hours"],
                    "factor": factor.factor,
                    "estimated": factor.estimated,
                    "source": factor.source,
                    "missing_metrics": [
                        m for m in factor.missing_metrics.split(",") if m
                    ],
                    "table_version": table.version,
                    "scu_h": scu_h(
                        factor=factor.factor, count=data["count"], hours=data["hours"]
                    ),
                }
            ).data
        )


class SurchargeListApi(generics.ListAPIView):
    serializer_class = s.SurchargeOutput
    filter_backends = []

    def get_queryset(self):
        query = parse_query(s.SurchargeQuery, self.request)
        profile, version = query["profile"], query.get("version")
        if version is None:
            table = selectors.surcharge_table_current(profile=profile)
        else:
            table = SurchargeTable.objects.filter(
                profile=profile, version=version
            ).first()
            if table is None:
                raise NotFound(f"No surcharge table v{version} for {profile.code}.")
        return (
            selectors.surcharges_list(table=table)
            .select_related("table")
            .order_by("sell_region__code", "buy_region__code")
        )

    @extend_schema(
        parameters=[s.SurchargeQuery],
        responses={
            200: s.SurchargeOutput(many=True),
            **errors(400, 401, 404, 422, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        """One row per linked ordered region pair: CNY per SCU-h and latency."""
        return super().get(request, *args, **kwargs)
