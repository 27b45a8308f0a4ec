"""Trading across time (API.md "Time"): a profile's forward curve, and the advisor
that ranks where and when a job could run by what the live books would charge.
Public, like the rest of market data. Thin: parse, call one reader, serialize."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.advisor.advice import advise
from exchange.advisor.plans import Job
from exchange.advisor.reads import Request
from exchange.api import time_serializers as s
from exchange.marketdata.forward import forward_curve
from market.api.query import parse_whole_query
from market.api.schema import errors
from market.models import Region, WorkloadProfile


def _known(model, field: str, code: str):
    row = model.objects.filter(code=code).first()
    if row is None:
        raise ValidationError({field: [f"Unknown {field} {code!r}."]})
    return row


class ForwardApi(APIView):
    @extend_schema(
        parameters=[s.ForwardQuery],
        responses={200: s.ForwardOutput, **errors(400, 401, 429)},
    )
    def get(self, request):
        """The profile's listed days and blocks in delivery order, each with its
        point and the basis of it (settlement, last, mid or none)."""
        query = parse_whole_query(s.ForwardQuery, request)
        profile = _known(WorkloadProfile, "profile", query["profile"])
        body = {"profile": profile.code, "results": forward_curve(profile=profile)}
        return Response(s.ForwardOutput(body).data)


class AdvisorApi(APIView):
    @extend_schema(
        parameters=[s.AdvisorQuery],
        responses={200: s.AdvisorOutput, **errors(400, 401, 429)},
    )
    def get(self, request):
        """Plans for a job, cheapest first (asks plus surcharges from the live
        books), with the plan at home; one leg each unless split=true."""
        query = parse_whole_query(s.AdvisorQuery, request)
        advice = advise(*advisor_inputs(query))
        body = {"results": advice.plans, "home": advice.home}
        return Response(s.AdvisorOutput(body).data)


def advisor_inputs(query: dict) -> tuple[Request, Job]:
    profile = _known(WorkloadProfile, "profile", query["profile"])
    origin = _known(Region, "origin", query["origin"])
    now = timezone.now()
    request = Request(
        profile=profile,
        origin=origin,
        earliest=query.get("earliest") or now,
        deadline=query.get("deadline"),
        data_gb=query["data_gb"],
        now=now,
    )
    job = Job(
        scu_h=query["scu_h"],
        data_gb=query["data_gb"],
        intensity_gb_per_scu_h=profile.data_intensity_gb_per_scu_h,
        split=query["split"],
    )
    return request, job
