"""What a client asks for, as plain data, and what needs no lock: the intake of an
order before placement.

The API's and the web's input serializers/forms parse types; these functions check
references and combinations (a 400 with `fields`) and roles (a 403), normalize the
request into the form that is hashed for `client_order_id` idempotency, find the
replay of a request sent before, and build the order's unsaved row.
"""

import copy
import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

from core import caches
from core.db import unsaved
from exchange.exceptions import ClientOrderIdConflict, InvalidOrder, PermissionDenied
from exchange.models import Order, Trade
from exchange.services.constraints import constraints_resolve
from market.exceptions import DomainError
from market.models import Cluster, Participant, Region


@dataclass(frozen=True)
class OrderRequest:
    instrument: str
    side: str
    quantity: Decimal
    type: str = "limit"
    time_in_force: str = "GTC"
    post_only: bool = False
    price: Decimal | None = None
    client_order_id: str | None = None
    expires_at: datetime | None = None
    cluster: int | None = None
    region: str | None = None
    constraints: dict | None = field(default=None, hash=False)

    def digest(self) -> str:
        """A stable hash of the body, for `client_order_id` replay detection."""
        # The fields by hand: `asdict` deep-copies each value, on every order's path.
        body = {name: getattr(self, name) for name in _REQUEST_FIELDS}
        body["constraints"] = body["constraints"] or None
        return hashlib.sha256(
            json.dumps(body, sort_keys=True, default=str).encode()
        ).hexdigest()


_REQUEST_FIELDS = tuple(f.name for f in fields(OrderRequest))


def _bad(field_name: str, message: str) -> InvalidOrder:
    return InvalidOrder(message, fields={field_name: [message]})


def check_combination(req: OrderRequest, now: datetime) -> None:
    """Order type, time in force, post-only and expiry must make sense together."""
    market = req.type == Order.Type.MARKET
    if market and req.time_in_force not in ("IOC", "FOK"):
        raise _bad("time_in_force", "A market order is IOC or FOK.")
    if market and req.post_only:
        raise _bad("post_only", "A market order cannot be post-only.")
    if req.post_only and req.time_in_force in ("IOC", "FOK"):
        raise _bad("post_only", "A post-only order must be able to rest (GTC or GTD).")
    if not market and req.price is None:
        raise _bad("price", "A limit order needs a price.")
    if req.price is not None and req.price <= 0:
        raise _bad("price", "The price must be positive.")
    if req.quantity <= 0:
        raise _bad("quantity", "The quantity must be positive.")
    if req.time_in_force == "GTD":
        if req.expires_at is None:
            raise _bad("expires_at", "A GTD order needs expires_at.")
        if req.expires_at <= now:
            raise _bad("expires_at", "expires_at must be in the future.")
    elif req.expires_at is not None:
        raise _bad("expires_at", "Only GTD orders take expires_at.")


def check_role(participant: Participant, side: str) -> None:
    if side == Order.Side.BUY and not participant.is_buyer:
        raise PermissionDenied("Only buyers can place buy orders.")
    if side == Order.Side.SELL and not participant.is_seller:
        raise PermissionDenied("Only sellers can place sell orders.")


def sell_site(req: OrderRequest, participant: Participant) -> Cluster:
    if req.cluster is None:
        raise _bad("cluster", "A sell order names one of your clusters.")
    if req.region is not None or req.constraints:
        raise _bad(
            "region", "Sells take their region from the cluster; no constraints."
        )
    cluster = _clusters.get(req.cluster)
    if cluster is None:
        cluster = (
            Cluster.objects.select_related("region", "chip__stack")
            .filter(pk=req.cluster)
            .order_by()  # one row: the default ordering would join the participant
            .first()
        )
        if cluster is not None:
            _clusters[cluster.pk] = cluster
    if cluster is None or cluster.participant_id != participant.pk:
        raise _bad("cluster", f"You have no cluster {req.cluster}.")
    return copy.copy(cluster)  # the caller sets its count under the lock


# Clusters by id, with region, chip and stack: a cluster's owner, site and chip never
# change, so each process keeps them (only found ones: ids are never reused). The
# count is read under the cluster's lock; a cluster deleted meanwhile fails there.
_clusters: dict[int, Cluster] = {}
caches.register(_clusters.clear)


def buy_origin(req: OrderRequest, participant: Participant) -> Region:
    if req.cluster is not None:
        raise _bad("cluster", "Buy orders do not take a cluster.")
    if req.region is None:
        return participant.home_region
    region = Region.objects.filter(code=req.region).first()
    if region is None:
        raise _bad("region", f"Unknown region {req.region!r}.")
    return region


@dataclass(frozen=True)
class Placed:
    order: Order
    fills: list[Trade]
    created: bool  # False: a replay of an earlier request with the same body


@dataclass(slots=True)
class Entry:
    """One order to place: by whom, as asked, and its unsaved row (or its answer
    already: a replay, or a refusal before the lock)."""

    participant: Participant
    request: OrderRequest
    item: Order | Placed | DomainError


def intake(participant: Participant, request: OrderRequest, now: datetime) -> Entry:
    """The checks that need no lock, then the replay of an earlier request with
    this client_order_id, or the order's unsaved row. Raises the refusal."""
    check_role(participant, request.side)
    check_combination(request, now)
    item = replay(participant, request) or order_row(participant, request)
    return Entry(participant, request, item)


def replay(participant: Participant, request: OrderRequest) -> Placed | None:
    """The order placed before for this client_order_id, with its placement's fills;
    ClientOrderIdConflict when it was placed with another body."""
    if request.client_order_id is None:
        return None
    order = Order.objects.filter(
        participant=participant, client_order_id=request.client_order_id
    ).first()
    if order is None:
        return None
    if order.request_hash != request.digest():
        raise ClientOrderIdConflict(
            f"client_order_id {request.client_order_id!r} was used with another body."
        )
    return Placed(order, placement_fills(order), created=False)


def placement_fills(order: Order) -> list[Trade]:
    """The fills the order's placement produced (not later ones)."""
    side = "buy_order" if order.side == Order.Side.BUY else "sell_order"
    return list(
        Trade.objects.filter(**{side: order}, sequence__lte=order.placed_through or 0)
        .select_related("buy_order", "sell_order")
        .order_by("sequence")
    )


def order_row(participant: Participant, req: OrderRequest) -> Order:
    """The order's row, unsaved, with its references resolved (no lock needed: a
    cluster's region and chip never change, and neither do regions or stacks)."""
    order = unsaved(  # without Model.__init__: once per order of a batch
        Order,
        side=req.side,
        type=req.type,
        time_in_force=req.time_in_force,
        post_only=req.post_only,
        price=req.price,
        quantity=req.quantity,
        remaining_quantity=req.quantity,
        client_order_id=req.client_order_id,
        request_hash=req.digest(),
        expires_at=req.expires_at,
    )
    order.participant = participant
    if req.side == Order.Side.SELL:
        cluster = sell_site(req, participant)
        order.cluster, order.region = cluster, cluster.region
        order.stack = cluster.chip.stack
    else:
        order.region = buy_origin(req, participant)
        order.constraints = constraints_resolve(req.constraints)
    order.instrument_symbol = req.instrument  # not a field: what placement locks
    order.limit_price = req.price  # a market order's protection limit, if any
    return order
