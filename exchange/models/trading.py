"""Instruments, orders, trades and the event log of every book.

An instrument is one workload profile delivered in one window; it binds the conversion
and surcharge tables current at listing. Every change to a book takes the instrument's
lock and its next gapless sequence number; `OrderEvent` rows are that history, from
which the book can be rebuilt at any time.
"""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from market.models import (
    Cluster,
    ConversionTable,
    Participant,
    Region,
    SoftwareStack,
    SurchargeTable,
    WorkloadProfile,
)

PRICE = {"max_digits": 14, "decimal_places": 2}
QTY = {"max_digits": 16, "decimal_places": 1}
MONEY = {"max_digits": 20, "decimal_places": 4}


class Instrument(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("open")
        HALTED = "halted", _("halted")
        CLOSED = "closed", _("closed")
        SETTLED = "settled", _("settled")

    class Product(models.TextChoices):
        """What the listing plan lists (a Shanghai day, or a block of hours within
        one), or an operator's special window (tests, drills), which indices,
        the forward curve and the monitoring averages leave out."""

        DAY = "day", _("day")
        BLOCK = "block", _("block")
        SPECIAL = "special", _("special")

    LISTED_PRODUCTS = (Product.DAY, Product.BLOCK)

    symbol = models.CharField(_("symbol"), max_length=64, unique=True)
    profile = models.ForeignKey(
        WorkloadProfile, on_delete=models.PROTECT, related_name="instruments"
    )
    product = models.CharField(
        _("product"), max_length=8, choices=Product.choices, default=Product.SPECIAL
    )
    # A block's hours on the Shanghai clock, "00-04"; None for days and specials.
    block = models.CharField(  # noqa: DJ001  (null, not "": the API's null)
        _("block"), max_length=5, null=True, blank=True
    )
    delivery_start = models.DateTimeField(_("delivery start"))
    delivery_end = models.DateTimeField(_("delivery end"))
    # Trading closes at gate closure, the window start (like a day-ahead market).
    gate_closure_at = models.DateTimeField(_("gate closure"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.OPEN
    )
    tick_size = models.DecimalField(_("tick size"), default=Decimal("0.01"), **PRICE)
    lot_size = models.DecimalField(_("lot size"), default=Decimal("0.1"), **QTY)
    # None: no band (an operator's special listing, or no trade to anchor one yet).
    price_band_pct = models.DecimalField(
        _("price band (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal(20),
    )
    opening_price = models.DecimalField(
        _("opening price"), null=True, blank=True, **PRICE
    )
    reference_price = models.DecimalField(
        _("reference price"), null=True, blank=True, **PRICE
    )
    last_price = models.DecimalField(_("last price"), null=True, blank=True, **PRICE)
    # The volume-weighted site price of its trades (half-up to the tick), fixed at
    # gate closure; None without trades.
    settlement_price = models.DecimalField(
        _("settlement price"), null=True, blank=True, **PRICE
    )
    best_bid = models.DecimalField(
        _("best bid (all-in)"), null=True, blank=True, **PRICE
    )
    best_ask = models.DecimalField(
        _("best ask (at site)"), null=True, blank=True, **PRICE
    )
    bond_rate = models.DecimalField(
        _("bond rate"), max_digits=5, decimal_places=4, default=Decimal("0.10")
    )
    maker_fee_bps = models.PositiveIntegerField(_("maker fee (bps)"), default=5)
    taker_fee_bps = models.PositiveIntegerField(_("taker fee (bps)"), default=10)
    report_deadline = models.DurationField(
        _("report deadline after the window"), default="02:00:00"
    )
    confirm_grace = models.DurationField(
        _("confirmation grace after the report deadline"), default="24:00:00"
    )
    conversion_table = models.ForeignKey(
        ConversionTable, on_delete=models.PROTECT, related_name="instruments"
    )
    surcharge_table = models.ForeignKey(
        SurchargeTable, on_delete=models.PROTECT, related_name="instruments"
    )
    sequence = models.BigIntegerField(_("last sequence number"), default=0)
    listed_automatically = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery_start", "symbol"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        permissions = [("halt_instrument", "Can halt and resume trading")]
        constraints = [
            models.CheckConstraint(
                condition=Q(delivery_end__gt=F("delivery_start")),
                name="instrument_window_positive",
            ),
            models.CheckConstraint(
                condition=Q(tick_size__gt=0, lot_size__gt=0),
                name="instrument_grid_positive",
            ),
            models.CheckConstraint(
                condition=Q(maker_fee_bps__lte=1000, taker_fee_bps__lte=1000),
                name="instrument_fees_bounded",
            ),
            models.CheckConstraint(
                condition=Q(bond_rate__gte=0, bond_rate__lte=1),
                name="instrument_bond_rate_fraction",
            ),
            models.CheckConstraint(
                condition=Q(product="block", block__isnull=False)
                | (~Q(product="block") & Q(block__isnull=True)),
                name="instrument_block_named_only_for_blocks",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "gate_closure_at"]),
            models.Index(fields=["profile", "product", "delivery_start"]),
        ]

    def __str__(self) -> str:
        return self.symbol

    @property
    def hours(self) -> Decimal:
        return Decimal((self.delivery_end - self.delivery_start).total_seconds()) / 3600

    @property
    def report_deadline_at(self):
        return self.delivery_end + self.report_deadline

    @property
    def confirm_deadline_at(self):
        return self.report_deadline_at + self.confirm_grace


class Order(models.Model):
    class Side(models.TextChoices):
        BUY = "buy", _("buy")
        SELL = "sell", _("sell")

    class Type(models.TextChoices):
        LIMIT = "limit", _("limit")
        MARKET = "market", _("market")

    class TimeInForce(models.TextChoices):
        GTC = "GTC", _("good till cancelled")
        GTD = "GTD", _("good till date")
        IOC = "IOC", _("immediate or cancel")
        FOK = "FOK", _("fill or kill")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PARTIALLY_FILLED = "partially_filled", _("partially filled")
        FILLED = "filled", _("filled")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")

    OPEN_STATUSES = (Status.OPEN, Status.PARTIALLY_FILLED)

    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="orders"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="orders"
    )
    side = models.CharField(_("side"), max_length=4, choices=Side.choices)
    type = models.CharField(_("type"), max_length=8, choices=Type.choices)
    time_in_force = models.CharField(
        _("time in force"), max_length=3, choices=TimeInForce.choices
    )
    post_only = models.BooleanField(_("post-only"), default=False)
    # Buys: all-in limit at the origin. Sells: at the site. Market: the protection.
    price = models.DecimalField(_("price"), **PRICE)
    quantity = models.DecimalField(_("quantity (SCU-h)"), **QTY)
    filled_quantity = models.DecimalField(_("filled"), default=Decimal("0.0"), **QTY)
    remaining_quantity = models.DecimalField(_("remaining"), **QTY)
    # Sum of price x quantity over fills (all-in for buys, at site for sells).
    filled_value = models.DecimalField(default=Decimal("0.0000"), **MONEY)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    cancel_reason = models.CharField(_("cancel reason"), max_length=32, blank=True)
    # NULL, not "": unique per participant only when the client gave one.
    client_order_id = models.CharField(  # noqa: DJ001
        _("client order id"), max_length=64, null=True, blank=True
    )
    request_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    stack = models.ForeignKey(
        SoftwareStack, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    constraints = models.JSONField(_("constraints"), default=dict, blank=True)
    # A sell's attributes as its cluster's verification and its provider's score
    # stood when it got its place (placement, or an amend that lost priority): what
    # it trades with, so a resting sell never changes bucket. Null on buys.
    confidential = models.BooleanField(_("confidential computing"), null=True)
    certifications = models.CharField(_("certifications"), max_length=200, blank=True)
    reliability = models.DecimalField(
        _("provider reliability"), max_digits=3, decimal_places=2, null=True
    )
    # Chips this sell commits over its window: (filled + remaining) / (factor x hours).
    committed_chips = models.DecimalField(
        max_digits=24, decimal_places=9, default=Decimal(0)
    )
    sequence = models.BigIntegerField(_("priority sequence"), null=True, blank=True)
    # The book's sequence when placement finished: the fills up to it are the ones a
    # retried request (same client_order_id and body) gets back.
    placed_through = models.BigIntegerField(null=True, blank=True)
    conversion_version = models.PositiveIntegerField()
    surcharge_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [("cancel_order", "Can cancel participants' orders")]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "client_order_id"],
                condition=Q(client_order_id__isnull=False),
                name="order_unique_client_order_id",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, price__gt=0), name="order_positive"
            ),
            # filled + remaining <= quantity is checked by reconcile: SQLite would
            # do the sum in floating point.
            models.CheckConstraint(
                condition=Q(filled_quantity__gte=0, remaining_quantity__gte=0)
                & Q(filled_quantity__lte=F("quantity"))
                & Q(remaining_quantity__lte=F("quantity")),
                name="order_quantities_bounded",
            ),
            models.CheckConstraint(
                condition=Q(side="buy", cluster__isnull=True)
                | Q(side="sell", cluster__isnull=False),
                name="order_sell_has_cluster",
            ),
        ]
        indexes = [
            models.Index(fields=["instrument", "status"]),
            models.Index(fields=["participant", "status"]),
            models.Index(fields=["cluster", "status"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.side} {self.quantity} @ {self.price}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def average_price(self) -> Decimal | None:
        if not self.filled_quantity:
            return None
        return (self.filled_value / self.filled_quantity).quantize(Decimal("0.0001"))

    @property
    def sell_attributes(self) -> "Order | None":
        """A placed sell itself, as what carries its attributes; None for a buy."""
        placed = self.side == self.Side.SELL and self.confidential is not None
        return self if placed else None


class ClusterCommitment(models.Model):
    """The chips a cluster's sells commit in one instrument's window: the sum of
    their `committed_chips`, kept with every write of it (one writer: the command
    that changes an order, under the instrument's lock). The capacity check reads
    these few rows instead of summing every sell the cluster ever made;
    `manage.py reconcile` checks them against the orders."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="+"
    )
    chips = models.DecimalField(max_digits=24, decimal_places=9, default=Decimal(0))

    class Meta:
        verbose_name = _("cluster commitment")
        verbose_name_plural = _("cluster commitments")
        constraints = [
            # No CHECK (chips >= 0): PostgreSQL checks an upsert's proposed row
            # (a negative delta) before it sees the conflict. Reconcile checks sums.
            models.UniqueConstraint(
                fields=["cluster", "instrument"], name="clustercommitment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id} in {self.instrument_id}: {self.chips}"


class Trade(models.Model):
    class Aggressor(models.TextChoices):
        BUY = "buy", _("buy")
        SELL = "sell", _("sell")

    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="trades"
    )
    buy_order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="buy_trades"
    )
    sell_order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="sell_trades"
    )
    buyer = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("price at site"), **PRICE)
    surcharge = models.DecimalField(_("network surcharge"), **PRICE)
    all_in_price = models.DecimalField(_("all-in price"), **PRICE)
    quantity = models.DecimalField(_("quantity (SCU-h)"), **QTY)
    aggressor = models.CharField(
        _("aggressor"), max_length=4, choices=Aggressor.choices
    )
    buyer_fee = models.DecimalField(_("buyer fee"), **MONEY)
    seller_fee = models.DecimalField(_("seller fee"), **MONEY)
    sell_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    buy_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    sequence = models.BigIntegerField(_("sequence"))
    executed_at = models.DateTimeField(_("executed at"))

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("trade")
        verbose_name_plural = _("trades")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "sequence"], name="trade_unique_sequence"
            ),
            # all_in = price + surcharge is checked by reconcile: SQLite would
            # compare the decimals as floats.
            models.CheckConstraint(
                condition=Q(quantity__gt=0, price__gt=0, surcharge__gte=0),
                name="trade_positive",
            ),
        ]
        indexes = [models.Index(fields=["instrument", "-executed_at"])]

    def __str__(self) -> str:
        return f"{self.instrument_id}#{self.sequence} {self.quantity} @ {self.price}"


class OrderEvent(models.Model):
    """The book's history: one row per sequenced engine event."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        FILL = "fill", _("filled")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")
        AMENDED = "amended", _("amended")

    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="events"
    )
    sequence = models.BigIntegerField(validators=[MinValueValidator(1)])
    kind = models.CharField(max_length=16, choices=Kind.choices)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instrument", "sequence"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "sequence"], name="orderevent_unique_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id}#{self.sequence} {self.kind}"
