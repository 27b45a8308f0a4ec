"""Translation between the database's Decimals and datetimes and the engine's integer
ticks, lots and microseconds, and between engine events and their stored JSON.

Input off the tick or lot grid is refused here (a 400), never rounded.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from exchange import engine
from exchange.exceptions import OffGrid

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
SIDES = {"buy": engine.Side.BUY, "sell": engine.Side.SELL}
TIFS = {
    "GTC": engine.TimeInForce.GTC,
    "GTD": engine.TimeInForce.GTD,
    "IOC": engine.TimeInForce.IOC,
    "FOK": engine.TimeInForce.FOK,
}
TIF_NAMES = {v: k for k, v in TIFS.items()}


def instant(moment: datetime | None) -> int | None:
    """Integer microseconds since the epoch: what the engine compares."""
    return None if moment is None else (moment - EPOCH) // MICROSECOND


def steps(value: Decimal, step: Decimal, field: str) -> int:
    """`value` as a whole number of `step`s; off the grid raises OffGrid."""
    count, rest = divmod(value, step)
    if rest:
        raise OffGrid(
            f"{field} {value} is not a multiple of {step}.",
            fields={field: [f"Must be a multiple of {step}."]},
        )
    return int(count)


def decimal_steps(count: int, step: Decimal) -> Decimal:
    return count * step


def constraints_engine(data: dict) -> engine.Constraints:
    """Engine constraints from an order's stored constraints (regions resolved)."""
    stacks = data.get("stacks")
    regions = data.get("resolved_regions", data.get("regions"))
    green = data.get("min_green_share")
    return engine.Constraints(
        stacks=frozenset(stacks) if stacks is not None else None,
        max_latency_ms=data.get("max_latency_ms"),
        regions=frozenset(regions) if regions is not None else None,
        min_green_share=Decimal(green) if green is not None else None,
    )


def constraints_json(c: engine.Constraints) -> dict[str, Any]:
    return {
        "stacks": sorted(c.stacks) if c.stacks is not None else None,
        "max_latency_ms": c.max_latency_ms,
        "regions": sorted(c.regions) if c.regions is not None else None,
        "min_green_share": str(c.min_green_share)
        if c.min_green_share is not None
        else None,
    }


def new_order_json(o: engine.NewOrder) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "participant_id": o.participant_id,
        "side": str(o.side),
        "price": o.price,
        "quantity": o.quantity,
        "tif": TIF_NAMES[o.tif],
        "region": o.region,
        "stack": o.stack,
        "constraints": constraints_json(o.constraints) if o.constraints else None,
        "post_only": o.post_only,
        "market": o.market,
        "expires_at": o.expires_at,
    }


def new_order_from_json(d: dict[str, Any]) -> engine.NewOrder:
    side = SIDES[d["side"]]
    # A buy always carries constraints (the engine requires them), even when the
    # stored ones are empty; a sell never does.
    constraints = (
        constraints_engine(d["constraints"] or {}) if side is engine.Side.BUY else None
    )
    return engine.NewOrder(
        order_id=d["order_id"],
        participant_id=d["participant_id"],
        side=side,
        price=d["price"],
        quantity=d["quantity"],
        tif=TIFS[d["tif"]],
        region=d["region"],
        stack=d["stack"],
        constraints=constraints,
        post_only=d["post_only"],
        market=d["market"],
        expires_at=d["expires_at"],
    )


def event_json(event: engine.SequencedEvent) -> dict[str, Any]:
    if isinstance(event, engine.Accepted):
        return {"order": new_order_json(event.order)}
    if isinstance(event, engine.Fill):
        return {
            "buy_order_id": event.buy_order_id,
            "sell_order_id": event.sell_order_id,
            "maker_order_id": event.maker_order_id,
            "taker_order_id": event.taker_order_id,
            "price": event.price,
            "surcharge": event.surcharge,
            "quantity": event.quantity,
            "buy_remaining": event.buy_remaining,
            "sell_remaining": event.sell_remaining,
        }
    if isinstance(event, engine.Cancelled):
        return {"reason": event.reason, "remaining": event.remaining}
    if isinstance(event, engine.Expired):
        return {"remaining": event.remaining}
    return {
        "price": event.price,
        "remaining": event.remaining,
        "priority_seq": event.priority_seq,
    }


def event_from_row(
    kind: str, seq: int, order_id: int, d: dict
) -> engine.SequencedEvent:
    if kind == "accepted":
        return engine.Accepted(seq, order_id, new_order_from_json(d["order"]))
    if kind == "fill":
        return engine.Fill(seq, **d)
    if kind == "cancelled":
        return engine.Cancelled(seq, order_id, d["reason"], d["remaining"])
    if kind == "expired":
        return engine.Expired(seq, order_id, d["remaining"])
    return engine.Amended(seq, order_id, d["price"], d["remaining"], d["priority_seq"])


EVENT_KINDS = {
    engine.Accepted: "accepted",
    engine.Fill: "fill",
    engine.Cancelled: "cancelled",
    engine.Expired: "expired",
    engine.Amended: "amended",
}
