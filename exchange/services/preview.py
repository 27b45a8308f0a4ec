"""An order's preview: what placing it now would do, without placing it.

It is the placement pipeline itself (`PlacementPreview`), run in its preview mode:
intake and every phase up to the ledger's plan, inside one consistent snapshot (so
its reads take no lock and draw no key: `core.db`), matching on a private copy of
the book at the sequence number the snapshot read (`books.book_copy`), and with
nothing committed. A refusal is the one placement would give; an answer is advisory
once anything else is placed after that sequence number.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from core.db import consistent_snapshot
from exchange import books, eligibility, engine
from exchange.models import Instrument, Order, Trade
from exchange.services.pipeline import Placement
from exchange.services.requests import Entry, OrderRequest, Placed, intake
from market.exceptions import DomainError
from market.models import Participant, Region, SoftwareStack

ZERO = Decimal(0)


@dataclass(frozen=True)
class PreviewFill:
    price: Decimal  # at the seller's site
    surcharge: Decimal
    all_in_price: Decimal
    quantity: Decimal
    region: str  # the other side's: the seller's site for a buy, else buyer's origin
    stack: str  # the selling cluster's
    fee: Decimal  # the previewing participant's


@dataclass(frozen=True)
class OrderPreview:
    fills: list[PreviewFill]
    filled_quantity: Decimal
    average_price: Decimal | None
    fee: Decimal
    hold: Decimal  # what a buy sets aside when placed (fills draw on it)
    bond: Decimal  # what a sell sets aside when placed
    would_rest: bool
    regions: list[eligibility.RegionVerdict]
    sequence: int  # the instrument's sequence number the preview reflects
    replay_of: int | None = None  # the order a client_order_id replay returns


class PlacementPreview(Placement):
    """The pipeline in its preview mode (see the module): one order, the same
    phases, on a copy of the book; `commit` writes nothing."""

    def __init__(self, entry: Entry, *, now: datetime) -> None:
        super().__init__([entry], now=now, exact=False)
        self.kept: tuple | None = None

    def book(self, instrument: Instrument, missed: list | None) -> engine.Book:
        return books.book_copy(instrument)  # no lock held: the snapshot's sequence

    def commit(self, work) -> None:
        """Keep what would be committed, for the answer; write nothing."""
        if not work.steps:
            return  # refused: its outcome says why
        [(symbol, [step])] = work.steps.items()
        instrument = work.reads.instruments[symbol]
        self.kept = (step, instrument, work.commands[symbol].book.network)


def order_preview(*, participant: Participant, request: OrderRequest) -> OrderPreview:
    """Entry point, a read: what placing `request` now would do; its refusal (the
    DomainError placement would raise) raised. Writes nothing, waits on no lock."""
    now = timezone.now()
    with consistent_snapshot():
        entry = intake(participant, request, now)
        if isinstance(entry.item, Placed):
            return _replayed(entry.item)
        pipeline = PlacementPreview(entry, now=now)
        [outcome] = pipeline.run()
        if isinstance(outcome, DomainError):
            raise outcome
        step, instrument, network = pipeline.kept  # type: ignore[misc]
        return _answer(step.order, step.fills, step.need, instrument, network)


def _answer(
    order: Order,
    fills: list[Trade],
    need: Decimal,
    instrument: Instrument,
    network: engine.Network,
    replay_of: int | None = None,
) -> OrderPreview:
    buy = order.side == Order.Side.BUY
    shown = _fills(order, fills)
    return OrderPreview(
        fills=shown,
        filled_quantity=order.filled_quantity,
        average_price=order.average_price,
        fee=sum((f.fee for f in shown), ZERO),
        hold=need if buy else ZERO,
        bond=ZERO if buy else need,
        would_rest=order.is_open and order.remaining_quantity > 0,
        regions=_regions(order, instrument, network),
        sequence=instrument.sequence,
        replay_of=replay_of,
    )


def _replayed(placed: Placed) -> OrderPreview:
    """A client_order_id sent before with this body: placement would answer that
    order (and the fills its placement produced) and set nothing more aside."""
    order = placed.order
    instrument = Instrument.objects.get(pk=order.instrument_id)
    network = books.network_build(instrument)
    return _answer(order, placed.fills, ZERO, instrument, network, replay_of=order.pk)


def _fills(order: Order, fills: list[Trade]) -> list[PreviewFill]:
    """The fills as the participant would see them."""
    regions = dict(Region.objects.values_list("pk", "code"))
    stacks = dict(SoftwareStack.objects.values_list("pk", "code"))
    buy = order.side == Order.Side.BUY
    return [
        PreviewFill(
            price=t.price,
            surcharge=t.surcharge,
            all_in_price=t.all_in_price,
            quantity=t.quantity,
            region=regions[t.sell_region_id if buy else t.buy_region_id],
            stack=stacks[t.sell_order.stack_id],
            fee=t.buyer_fee if buy else t.seller_fee,
        )
        for t in fills
    ]


def _regions(
    order: Order, instrument: Instrument, network: engine.Network
) -> list[eligibility.RegionVerdict]:
    """Which regions could serve the order and why each other cannot: sellers'
    sites for a buy, buyers' origins for a sell (`eligibility`)."""
    if order.side == Order.Side.BUY:
        return eligibility.buy_regions(
            instrument,
            network,
            origin=order.region.code,
            constraints=order.constraints or {},
            participant_id=order.participant_id,
        )
    chip = order.cluster.chip
    site = eligibility.AskGroup(
        order.region.code,
        order.stack.code,
        chip,
        bool(order.confidential),
        order.certifications or "",
        order.reliability,
    )
    return eligibility.sell_regions(
        instrument, network, site=site, participant_id=order.participant_id
    )
