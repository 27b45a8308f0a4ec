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


def _codes(data: dict, key: str) -> frozenset | None:
    values = data.get(key)
    return frozenset(values) if values is not None else None


def _number(value) -> Decimal | None:
    return Decimal(value) if value is not None else None


def constraints_engine(data: dict) -> engine.Constraints:
    """Engine constraints from an order's stored constraints (regions resolved)."""
    regions = data.get("resolved_regions", data.get("regions"))
    return engine.Constraints(
        stacks=_codes(data, "stacks"),
        max_latency_ms=data.get("max_latency_ms"),
        regions=frozenset(regions) if regions is not None else None,
        min_green_share=_number(data.get("min_green_share")),
        chips=_codes(data, "chips"),
        vendors=_codes(data, "vendors"),
        min_memory_gb=data.get("min_memory_gb"),
        confidential=data.get("confidential") or None,
        certifications=_codes(data, "certifications"),
        min_reliability=_number(data.get("min_reliability")),
    )


def _sorted(values: frozenset | None) -> list | None:
    return sorted(values) if values is not None else None


def _text(value) -> str | None:
    return str(value) if value is not None else None


def constraints_json(c: engine.Constraints) -> dict[str, Any]:
    return {
        "stacks": _sorted(c.stacks),
        "max_latency_ms": c.max_latency_ms,
        "regions": _sorted(c.regions),
        "min_green_share": _text(c.min_green_share),
        "chips": _sorted(c.chips),
        "vendors": _sorted(c.vendors),
        "min_memory_gb": c.min_memory_gb,
        "confidential": c.confidential,
        "certifications": _sorted(c.certifications),
        "min_reliability": _text(c.min_reliability),
    }


def attributes_engine(
    chip: str,
    vendor: str,
    memory_gb: Decimal | None,
    confidential: bool | None,
    certifications: str,
    reliability: Decimal | None,
) -> engine.Attributes:
    """A sell's engine attributes: its cluster's chip (code, vendor, memory per chip)
    and what the order carries (verified TEE and certifications, its provider's
    reliability when it got its place)."""
    return engine.Attributes(
        chip=chip,
        vendor=vendor,
        memory_gb=memory_gb,
        confidential=bool(confidential),
        certifications=frozenset(c for c in certifications.split(",") if c),
        reliability=reliability,
    )


def attributes_json(a: engine.Attributes | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "chip": a.chip,
        "vendor": a.vendor,
        "memory_gb": _text(a.memory_gb),
        "confidential": a.confidential,
        "certifications": sorted(a.certifications),
        "reliability": _text(a.reliability),
    }


def attributes_from_json(d: dict[str, Any] | None) -> engine.Attributes | None:
    if d is None:
        return None
    return engine.Attributes(
        chip=d["chip"],
        vendor=d["vendor"],
        memory_gb=_number(d["memory_gb"]),
        confidential=d["confidential"],
        certifications=frozenset(d["certifications"]),
        reliability=_number(d["reliability"]),
    )


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
        "attributes": attributes_json(o.attributes),
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
        attributes=attributes_from_json(d.get("attributes")),
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
    amended = {
        "price": event.price,
        "remaining": event.remaining,
        "priority_seq": event.priority_seq,
    }
    if event.attributes is not None:
        amended["attributes"] = attributes_json(event.attributes)
    return amended


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
    return engine.Amended(
        seq,
        order_id,
        d["price"],
        d["remaining"],
        d["priority_seq"],
        attributes_from_json(d.get("attributes")),
    )


EVENT_KINDS = {
    engine.Accepted: "accepted",
    engine.Fill: "fill",
    engine.Cancelled: "cancelled",
    engine.Expired: "expired",
    engine.Amended: "amended",
}
