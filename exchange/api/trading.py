"""Trading endpoints (an API key of a participant): orders, batches, cancel-all,
fills and clusters. Thin: parse, call one service or selector, serialize.

Precedence of refusals: 401 (no key), 403 (role: checked on the body's `side` before
anything else is parsed), 400 (format), 404 (another's or unknown object), 409, 422.
"""

from collections.abc import Iterator

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange import selectors
from exchange.api import serializers as s
from exchange.models import Order, Trade
from exchange.services import capacity
from exchange.services.orders import (
    order_amend,
    order_cancel,
    order_get,
    orders_cancel_all,
)
from exchange.services.placement import Placed, order_place, orders_place_batch
from exchange.services.preview import order_preview
from exchange.services.requests import check_role
from market import services as market_services
from market.api.auth import IsParticipant, IsSellerToWrite, participant_of
from market.api.errors import error_status_body
from market.api.pagination import CursorPagination
from market.api.query import parse_query
from market.api.schema import errors
from market.exceptions import DomainError
from market.models import ChipModel, Cluster, Region
from market.models.participants import certifications_text

ORDER_ID = OpenApiParameter(
    "order_id",
    {"type": "integer", "minimum": 0, "maximum": s.MAX_ID},
    OpenApiParameter.PATH,
    required=True,
)
CLUSTER_ID = OpenApiParameter(
    "cluster_id",
    {"type": "integer", "minimum": 0, "maximum": s.MAX_ID},
    OpenApiParameter.PATH,
    required=True,
)


def _check_side_role(participant, body) -> None:
    """403 before 400: a buyer-only participant selling is refused whatever else the
    body holds."""
    side = body.get("side") if isinstance(body, dict) else None
    if side in Order.Side.values:
        check_role(participant, side)


# One serializer for every order: DRF copies a serializer's fields when it is created,
# which cost more than rendering an order; `to_representation` keeps no state.
ORDER_OUTPUT = s.OrderOutput()


def order_with_fills(order: Order, fills: list[Trade]) -> dict:
    return orders_with_fills([(order, fills)])[0]


def orders_with_fills(pairs: list[tuple[Order, list[Trade]]]) -> list[dict]:
    """One participant's orders, each with its fills, serialized together (the fills'
    carbon is one query)."""
    if not pairs:
        return []
    for order, fills in pairs:
        for trade in fills:
            trade.instrument = order.instrument  # one symbol for all: no query
    orders = [ORDER_OUTPUT.to_representation(order) for order, _ in pairs]
    every_fill = [trade for _, fills in pairs for trade in fills]
    if not every_fill:  # resting orders: no list serializer to build
        return [data | {"fills": []} for data in orders]
    context = {"participant_id": pairs[0][0].participant_id}
    fills = iter(s.FillOutput(every_fill, many=True, context=context).data)
    return [
        data | {"fills": [next(fills) for _ in own]}
        for data, (_, own) in zip(orders, pairs, strict=True)
    ]


class OrderListApi(generics.ListAPIView):
    permission_classes = [IsParticipant]
    serializer_class = s.OrderOutput
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        query = parse_query(s.OrderQuery, self.request)
        return selectors.order_list(participant=participant_of(self.request), **query)

    @extend_schema(
        parameters=[s.OrderQuery],
        responses={200: s.OrderOutput(many=True), **errors(400, 401, 403, 429)},
    )
    def get(self, request, *args, **kwargs):
        """Your orders, newest first; filter by status and instrument."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.OrderInput,
        responses={
            201: s.OrderWithFillsOutput,
            200: s.OrderWithFillsOutput,
            **errors(400, 401, 403, 409, 415, 422, 429),
        },
    )
    def post(self, request):
        """Place an order: 201 with the fills it produced; 200 when the same
        client_order_id and body were sent before (the original fills)."""
        participant = participant_of(request)
        _check_side_role(participant, request.data)
        order_input = s.OrderInput(data=request.data)
        order_input.is_valid(raise_exception=True)
        placed = order_place(participant=participant, request=order_input.to_request())
        code = status.HTTP_201_CREATED if placed.created else status.HTTP_200_OK
        return Response(order_with_fills(placed.order, placed.fills), status=code)

    @extend_schema(
        operation_id="orders_cancel_all",
        parameters=[s.CancelAllQuery],
        responses={200: s.CancelledOutput, **errors(400, 401, 403, 429)},
    )
    def delete(self, request):
        """Cancel your open orders (one transaction per instrument)."""
        query = parse_query(s.CancelAllQuery, request)
        ids = orders_cancel_all(participant=participant_of(request), **query)
        return Response(s.CancelledOutput({"cancelled": ids}).data)


class OrderPreviewApi(APIView):
    permission_classes = [IsParticipant]

    @extend_schema(
        request=s.OrderInput,
        responses={
            200: s.OrderPreviewOutput,
            **errors(400, 401, 403, 409, 415, 422, 429),
        },
    )
    def post(self, request):
        """What placing this order now would do, without placing it: its fills,
        fees, hold or bond, which regions could serve it and why the others could
        not; or the refusal placing it would get. Writes nothing."""
        participant = participant_of(request)
        _check_side_role(participant, request.data)
        order_input = s.OrderInput(data=request.data)
        order_input.is_valid(raise_exception=True)
        preview = order_preview(
            participant=participant, request=order_input.to_request()
        )
        return Response(s.OrderPreviewOutput(preview).data)


class OrderBatchApi(APIView):
    permission_classes = [IsParticipant]

    @extend_schema(
        request=s.BatchInput,
        responses={200: s.BatchOutput, **errors(400, 401, 403, 415, 429)},
    )
    def post(self, request):
        """Up to 100 orders, placed in the order given and committed together. A
        malformed batch is a 400; each order's refusal is its own result and leaves
        nothing behind."""
        participant = participant_of(request)
        batch = s.BatchInput(data=request.data)
        batch.is_valid(raise_exception=True)
        requests = [s.order_request(o) for o in batch.validated_data["orders"]]
        placed = orders_place_batch(participant=participant, requests=requests)
        orders = iter(
            orders_with_fills(
                [(p.order, p.fills) for p in placed if isinstance(p, Placed)]
            )
        )
        return Response({"results": [_batch_result(p, orders) for p in placed]})


def _batch_result(outcome: Placed | DomainError, orders: Iterator[dict]) -> dict:
    if isinstance(outcome, DomainError):
        code, body = error_status_body(outcome)
        return {"status": code, "error": body["error"]}
    code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
    return {"status": code, "order": next(orders)}


class OrderDetailApi(APIView):
    permission_classes = [IsParticipant]

    @extend_schema(
        parameters=[ORDER_ID],
        responses={200: s.OrderWithFillsOutput, **errors(401, 403, 404, 429)},
    )
    def get(self, request, order_id: str):
        """One of your orders, with all its fills so far."""
        order = order_get(participant=participant_of(request), order_id=int(order_id))
        return Response(order_with_fills(order, selectors.order_fills(order=order)))

    @extend_schema(
        parameters=[ORDER_ID],
        request=s.AmendInput,
        responses={
            200: s.OrderWithFillsOutput,
            **errors(400, 401, 403, 404, 409, 415, 422, 429),
        },
    )
    def patch(self, request, order_id: str):
        """Amend a resting limit order's price or total quantity."""
        amend = s.AmendInput(data=request.data)
        amend.is_valid(raise_exception=True)
        amended = order_amend(
            participant=participant_of(request),
            order_id=int(order_id),
            **amend.validated_data,
        )
        return Response(order_with_fills(amended.order, amended.fills))

    @extend_schema(
        operation_id="orders_cancel",
        parameters=[ORDER_ID],
        responses={200: s.OrderWithFillsOutput, **errors(401, 403, 404, 409, 429)},
    )
    def delete(self, request, order_id: str):
        """Cancel one open order; 409 when it is already done."""
        order = order_cancel(
            participant=participant_of(request), order_id=int(order_id)
        )
        return Response(order_with_fills(order, []))


class FillCursor(CursorPagination):
    ordering = "-id"


class FillListApi(generics.ListAPIView):
    permission_classes = [IsParticipant]
    serializer_class = s.FillOutput
    pagination_class = FillCursor
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Trade.objects.none()
        query = parse_query(s.FillQuery, self.request)
        return selectors.fill_list(participant=participant_of(self.request), **query)

    def get_serializer_context(self):
        participant = participant_of(self.request)
        return {**super().get_serializer_context(), "participant_id": participant.pk}

    @extend_schema(
        parameters=[s.FillQuery],
        responses={200: s.FillOutput(many=True), **errors(400, 401, 403, 429)},
    )
    def get(self, request, *args, **kwargs):
        """Your fills, newest first."""
        return super().get(request, *args, **kwargs)


class ClusterListApi(generics.ListAPIView):
    permission_classes = [IsSellerToWrite]
    serializer_class = s.ClusterOutput
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Cluster.objects.none()
        return selectors.cluster_list(participant=participant_of(self.request))

    @extend_schema(
        responses={200: s.ClusterOutput(many=True), **errors(400, 401, 403, 429)}
    )
    def get(self, request):
        """Your clusters, with their capacity in each open instrument's window."""
        page = self.paginate_queryset(self.get_queryset())
        capacities = _capacities(page)
        data = s.ClusterOutput(page, many=True, context={"capacities": capacities})
        return self.get_paginated_response(data.data)

    @extend_schema(
        request=s.ClusterInput,
        responses={201: s.ClusterOutput, **errors(400, 401, 403, 415, 429)},
    )
    def post(self, request):
        """Register a cluster (sellers only)."""
        data = _cluster_input(request.data)
        participant = participant_of(request)
        cluster = _cluster_create(participant, data)
        capacities = _capacities([cluster])
        body = s.ClusterOutput(cluster, context={"capacities": capacities}).data
        return Response(body, status=status.HTTP_201_CREATED)


def _capacities(clusters: list[Cluster]) -> dict[int, list[dict]]:
    """Per cluster, its capacity per open window, with what is committed and free."""
    capacities = selectors.cluster_capacities(clusters)
    for cluster in clusters:
        capacity.windows_committed(cluster, capacities.get(cluster.pk, []))
    return capacities


def _cluster_input(body) -> dict:
    cluster = s.ClusterInput(data=body)
    cluster.is_valid(raise_exception=True)
    data = dict(cluster.validated_data)
    region = Region.objects.filter(code=data["region"]).first()
    chip = ChipModel.objects.select_related("stack").filter(code=data["chip"]).first()
    problems = {
        **({} if region else {"region": [f"Unknown region {data['region']!r}."]}),
        **({} if chip else {"chip": [f"Unknown chip {data['chip']!r}."]}),
    }
    if problems:
        raise ValidationError(problems)
    certifications = certifications_text(data.pop("certifications"))
    return {**data, "region": region, "chip": chip, "certifications": certifications}


def _cluster_create(participant, data: dict) -> Cluster:
    try:
        with transaction.atomic(durable=True):
            return market_services.cluster_create(participant=participant, **data)
    except IntegrityError as exc:  # a concurrent cluster took the name
        raise ValidationError(
            {"name": ["You already have a cluster of this name."]}
        ) from exc


class ClusterDetailApi(APIView):
    permission_classes = [IsParticipant]

    @extend_schema(
        parameters=[CLUSTER_ID],
        responses={200: s.ClusterOutput, **errors(401, 403, 404, 429)},
    )
    def get(self, request, cluster_id: str):
        """One of your clusters."""
        cluster = selectors.cluster_get(
            participant=participant_of(request), cluster_id=int(cluster_id)
        )
        capacities = _capacities([cluster])
        return Response(
            s.ClusterOutput(cluster, context={"capacities": capacities}).data
        )
