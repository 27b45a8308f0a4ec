"""Account and delivery endpoints (an API key of a participant): balances, ledger
postings, withdrawal requests, delivery obligations, and the provider's report and
the buyer's confirm or dispute, each write in its own durable transaction."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from market.api.auth import IsParticipant, participant_of
from market.api.pagination import CursorPagination
from market.api.query import parse_query
from market.api.schema import errors
from settlement import selectors, services, withdrawals
from settlement.api import serializers as s
from settlement.models import Obligation, Posting, WithdrawalRequest

TRADE_ID = OpenApiParameter(
    "trade_id",
    {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    OpenApiParameter.PATH,
    required=True,
)
DELIVERY_ERRORS = errors(400, 401, 403, 404, 409, 415, 429)


class AccountApi(APIView):
    permission_classes = [IsParticipant]

    @extend_schema(responses={200: s.AccountOutput, **errors(401, 403, 429)})
    def get(self, request):
        """Your balances in CNY."""
        balances = selectors.account_balances(participant=participant_of(request))
        return Response(s.AccountOutput(balances).data)


class LedgerCursor(CursorPagination):
    ordering = "-id"


class LedgerApi(generics.ListAPIView):
    permission_classes = [IsParticipant]
    serializer_class = s.PostingOutput
    pagination_class = LedgerCursor
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Posting.objects.none()
        query = parse_query(s.LedgerQuery, self.request)
        return selectors.posting_list(participant=participant_of(self.request), **query)

    @extend_schema(
        parameters=[s.LedgerQuery],
        responses={200: s.PostingOutput(many=True), **errors(400, 401, 403, 429)},
    )
    def get(self, request, *args, **kwargs):
        """Postings on your accounts, newest first."""
        return super().get(request, *args, **kwargs)


class WithdrawalListApi(generics.ListAPIView):
    permission_classes = [IsParticipant]
    serializer_class = s.WithdrawalOutput
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WithdrawalRequest.objects.none()
        query = parse_query(s.WithdrawalQuery, self.request)
        participant = participant_of(self.request)
        return selectors.withdrawal_list(participant=participant, **query)

    @extend_schema(
        parameters=[s.WithdrawalQuery],
        responses={200: s.WithdrawalOutput(many=True), **errors(400, 401, 403, 429)},
    )
    def get(self, request, *args, **kwargs):
        """Your withdrawal requests, newest first."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.WithdrawalInput,
        responses={
            201: s.WithdrawalOutput,
            **errors(400, 401, 403, 415, 422, 429),
        },
    )
    def post(self, request):
        """Ask to be paid out: the amount leaves your available balance at once
        (pending) until an operator pays it or rejects it (then it comes back).
        More than available: 422 insufficient_funds, nothing recorded."""
        body = s.WithdrawalInput(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic(durable=True):
            created = withdrawals.withdrawal_request_create(
                participant=participant_of(request),
                amount=body.validated_data["amount"],
            )
        data = s.WithdrawalOutput(created).data
        return Response(data, status=status.HTTP_201_CREATED)


class DeliveryCursor(CursorPagination):
    ordering = "-trade_id"


class DeliveryListApi(generics.ListAPIView):
    permission_classes = [IsParticipant]
    serializer_class = s.DeliveryOutput
    pagination_class = DeliveryCursor
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Obligation.objects.none()
        query = parse_query(s.DeliveryQuery, self.request)
        participant = participant_of(self.request)
        return selectors.obligation_list(participant=participant, **query)

    def get_serializer_context(self):
        participant = participant_of(self.request)
        return {**super().get_serializer_context(), "participant_id": participant.pk}

    @extend_schema(
        parameters=[s.DeliveryQuery],
        responses={200: s.DeliveryOutput(many=True), **errors(400, 401, 403, 429)},
    )
    def get(self, request, *args, **kwargs):
        """Your trades' delivery obligations, newest first."""
        return super().get(request, *args, **kwargs)


def _answer(request, obligation: Obligation) -> Response:
    context = {"participant_id": participant_of(request).pk}
    return Response(s.DeliveryOutput(obligation, context=context).data)


class DeliveryReportApi(APIView):
    permission_classes = [IsParticipant]

    @extend_schema(
        parameters=[TRADE_ID],
        request=s.ReportInput,
        responses={200: s.DeliveryOutput, **DELIVERY_ERRORS},
    )
    def post(self, request, trade_id: str):
        """The provider reports cumulative delivered SCU-h (each report replaces
        the last), from the window start until the report deadline."""
        body = s.ReportInput(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic(durable=True):
            obligation = services.delivery_report(
                participant=participant_of(request),
                trade_id=int(trade_id),
                delivered=body.validated_data["delivered_quantity"],
                now=timezone.now(),
                reported_by=request.user,
            )
        return _answer(request, obligation)


class DeliveryConfirmApi(APIView):
    permission_classes = [IsParticipant]

    @extend_schema(
        parameters=[TRADE_ID],
        request=None,
        responses={200: s.DeliveryOutput, **DELIVERY_ERRORS},
    )
    def post(self, request, trade_id: str):
        """The buyer accepts the provider's report."""
        with transaction.atomic(durable=True):
            obligation = services.delivery_confirm(
                participant=participant_of(request),
                trade_id=int(trade_id),
                now=timezone.now(),
            )
        return _answer(request, obligation)


class DeliveryDisputeApi(APIView):
    permission_classes = [IsParticipant]

    @extend_schema(
        parameters=[TRADE_ID],
        request=s.DisputeInput,
        responses={200: s.DeliveryOutput, **DELIVERY_ERRORS},
    )
    def post(self, request, trade_id: str):
        """The buyer disputes: an operator then sets what was delivered."""
        body = s.DisputeInput(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic(durable=True):
            obligation = services.delivery_dispute(
                participant=participant_of(request),
                trade_id=int(trade_id),
                now=timezone.now(),
                reason=body.validated_data.get("reason", ""),
            )
        return _answer(request, obligation)


class ProviderListApi(generics.ListAPIView):
    """Public: every provider's reliability score."""

    serializer_class = s.ProviderOutput
    filter_backends = []

    def get_queryset(self):
        return selectors.providers_list()

    def get_serializer_context(self):
        method = self.request.build_absolute_uri(reverse("funds:providers"))
        return {**super().get_serializer_context(), "score_method": method}

    @extend_schema(
        responses={200: s.ProviderOutput(many=True), **errors(400, 401, 429)}
    )
    def get(self, request, *args, **kwargs):
        """Providers by handle, with the reliability score a sell takes when placed
        (rounded down to 0.01) and what it rests on; `score_method` is the page that
        states the formula."""
        return super().get(request, *args, **kwargs)
