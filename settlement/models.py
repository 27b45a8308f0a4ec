"""The double-entry ledger: accounts, journal entries, postings, holds, and settlement's
own record of every trade (the obligation).

Invariants kept here and checked by `manage.py reconcile`:
- every journal entry sums to zero (on PostgreSQL a trigger refuses an INSERT whose
  postings do not sum to zero per entry, so an entry's postings go in one statement;
  on SQLite the service checks it);
- postings are append-only (a trigger refuses UPDATE and DELETE; corrections are
  reversing entries);
- each account's stored balance equals the sum of its postings, and no account but
  `external` is ever negative (a CHECK constraint);
- `held` = sum of open order holds, `bond` = open sell bonds + unsettled trade bonds,
  `withdrawal_pending` = sum of pending withdrawal requests, `escrow` = sum over
  unsettled obligations.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from market.models import Participant, Region

MONEY = {"max_digits": 20, "decimal_places": 4}
ZERO = Decimal("0.0000")


class Account(models.Model):
    class Kind(models.TextChoices):
        AVAILABLE = "available", _("available")
        HELD = "held", _("held")
        BOND = "bond", _("bond")
        ESCROW = "escrow", _("escrow")
        FEES = "fees", _("fees")
        NETWORK = "network", _("network")
        EXTERNAL = "external", _("external")
        WITHDRAWAL_PENDING = "withdrawal_pending", _("pending withdrawal")

    # What trading touches of a participant (order placement reads these unlocked).
    TRADING_KINDS = (Kind.AVAILABLE, Kind.HELD, Kind.BOND)
    PARTICIPANT_KINDS = (*TRADING_KINDS, Kind.WITHDRAWAL_PENDING)
    INSTRUMENT_KINDS = (Kind.ESCROW, Kind.FEES, Kind.NETWORK)

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
    )
    # Platform accounts are per instrument, so instruments never queue on one hot row.
    instrument = models.CharField(_("instrument"), max_length=64, blank=True)
    balance = models.DecimalField(_("balance"), default=ZERO, **MONEY)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0) | Q(kind="external"),
                name="account_balance_non_negative",
            ),
            models.UniqueConstraint(
                fields=["kind", "participant"],
                condition=Q(participant__isnull=False),
                name="account_unique_participant_kind",
            ),
            models.UniqueConstraint(
                fields=["kind", "instrument"],
                condition=Q(participant__isnull=True),
                name="account_unique_platform_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=["available", "held", "bond", "withdrawal_pending"],
                        participant__isnull=False,
                    )
                    | Q(
                        kind__in=["escrow", "fees", "network"],
                        participant__isnull=True,
                    )
                    & ~Q(instrument="")
                    | Q(kind="external", participant__isnull=True, instrument="")
                ),
                name="account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.participant_id or self.instrument or "platform"
        return f"{self.kind}:{owner}"


class JournalEntry(models.Model):
    """One balanced movement of money. `idempotency_key` is derived from its cause
    (e.g. `settle:trade:42`), so doing the same thing twice posts once."""

    kind = models.CharField(_("kind"), max_length=32)
    reference = models.CharField(_("reference"), max_length=128)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=160, unique=True
    )
    memo = models.TextField(_("memo"), blank=True)
    caused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        permissions = [("post_adjustment", "Can propose a manual adjustment")]
        indexes = [models.Index(fields=["reference"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.reference}"


class Posting(models.Model):
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="postings"
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="postings"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_non_zero")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+}"


class Hold(models.Model):
    """Money set aside in `held` or `bond` for one cause: an open buy (`order`), an
    open sell's collateral (`bond`), or a trade's share of that collateral
    (`trade_bond`). Resolved exactly once, by a conditional update."""

    class Kind(models.TextChoices):
        ORDER = "order", _("order hold")
        BOND = "bond", _("sell bond")
        TRADE_BOND = "trade_bond", _("trade bond")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RELEASED = "released", _("released")

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="holds"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=128)
    instrument = models.CharField(_("instrument"), max_length=64)
    amount = models.DecimalField(_("amount"), default=ZERO, **MONEY)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference"], name="hold_unique_reference"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="hold_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(amount=0), name="hold_released_is_empty"
            ),
        ]
        indexes = [models.Index(fields=["participant", "status"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.reference} {self.amount} ({self.status})"


class Obligation(models.Model):
    """Settlement's own record of a trade, handed over by the exchange at the fill, so
    money can be audited without the order book. Settles exactly once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting delivery report")
        REPORTED = "reported", _("reported")
        CONFIRMED = "confirmed", _("confirmed")
        DISPUTED = "disputed", _("disputed")
        SETTLED = "settled", _("settled")

    trade_id = models.BigIntegerField(_("trade"), unique=True)
    instrument = models.CharField(_("instrument"), max_length=64, db_index=True)
    buyer = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity (SCU-h)"), max_digits=16, decimal_places=1
    )
    price = models.DecimalField(_("price at site"), max_digits=14, decimal_places=2)
    surcharge = models.DecimalField(
        _("network surcharge"), max_digits=14, decimal_places=2
    )
    buyer_fee_bps = models.PositiveIntegerField(_("buyer fee (bps)"))
    seller_fee_bps = models.PositiveIntegerField(_("seller fee (bps)"))
    escrow_amount = models.DecimalField(_("in escrow"), **MONEY)
    buyer_fee_escrowed = models.DecimalField(_("buyer fee escrowed"), **MONEY)
    bond_amount = models.DecimalField(_("trade bond"), **MONEY)
    delivery_start = models.DateTimeField(_("delivery start"))
    delivery_end = models.DateTimeField(_("delivery end"))
    report_deadline = models.DateTimeField(_("report deadline"))
    confirm_deadline = models.DateTimeField(_("confirm deadline"))
    delivered_quantity = models.DecimalField(
        _("delivered (SCU-h)"), max_digits=16, decimal_places=1, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    disputed_at = models.DateTimeField(_("disputed at"), null=True, blank=True)
    dispute_reason = models.TextField(_("dispute reason"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    # What the reliability score counts of this trade, fixed when it settles: its
    # delivered SCU-h less what a lost dispute (all of it) or a late first report
    # (a tenth of the quantity) takes off (settlement/reliability.py).
    counted_delivered = models.DecimalField(
        _("delivered as the score counts it"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
    )
    dispute_lost = models.BooleanField(_("dispute lost by the provider"), default=False)
    late_report = models.BooleanField(_("reported late"), default=False)
    # Where it is delivered (the sell's cluster's region): a suspension of that
    # region during the window is force majeure for the overlap.
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivery region"),
    )
    # The SCU-h a region suspension excused, fixed when it settles: no penalty on
    # them, and the trade is left out of the reliability score.
    excused_quantity = models.DecimalField(
        _("excused by force majeure (SCU-h)"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-trade_id"]
        verbose_name = _("trade obligation")
        verbose_name_plural = _("trade obligations")
        permissions = [("resolve_dispute", "Can propose a dispute resolution")]
        constraints = [
            models.CheckConstraint(
                condition=Q(delivered_quantity__isnull=True)
                | Q(
                    delivered_quantity__gte=0,
                    delivered_quantity__lte=models.F("quantity"),
                ),
                name="obligation_delivered_within_quantity",
            ),
            models.CheckConstraint(
                condition=~Q(status="settled") | Q(settled_at__isnull=False),
                name="obligation_settled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "confirm_deadline"]),
            models.Index(fields=["seller", "settled_at"]),
        ]

    def __str__(self) -> str:
        return f"trade {self.trade_id} ({self.status})"

    @property
    def all_in_price(self) -> Decimal:
        return self.price + self.surcharge


class DeliveryReport(models.Model):
    """Every report a provider made; the obligation keeps the latest (cumulative)."""

    obligation = models.ForeignKey(
        Obligation, on_delete=models.PROTECT, related_name="reports"
    )
    delivered_quantity = models.DecimalField(max_digits=16, decimal_places=1)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("delivery report")
        verbose_name_plural = _("delivery reports")

    def __str__(self) -> str:
        return f"{self.obligation_id}: {self.delivered_quantity}"


class DepositRequest(models.Model):
    """A participant asks for money to be credited; an operator approves it (or, in
    the demo, YIWANG_DEMO, the page approves it at once). Approval posts the deposit
    once: a conditional status update plus the entry key `deposit-request:<id>`."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="deposit_requests"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("deposit request")
        verbose_name_plural = _("deposit requests")
        permissions = [
            ("approve_depositrequest", "Can approve or reject deposit requests")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="depositrequest_amount_positive"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"deposit request #{self.pk}: {self.amount} CNY ({self.status})"


class WithdrawalRequest(models.Model):
    """A participant asks to be paid out. The amount leaves its available balance
    for `withdrawal_pending` at once (so trading cannot spend it meanwhile); a
    treasury operator then pays it out (to `external`) or rejects it (back to
    available). Each step is a conditional status update from `pending` plus an
    entry keyed by the request, so it happens once (settlement/withdrawals.py)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PAID = "paid", _("paid")
        REJECTED = "rejected", _("rejected")

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="withdrawal_requests"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The operator's reason for a rejection, shown to the participant.
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("withdrawal request")
        verbose_name_plural = _("withdrawal requests")
        permissions = [
            ("pay_withdrawalrequest", "Can pay out withdrawal requests"),
            ("reject_withdrawalrequest", "Can reject withdrawal requests"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="withdrawalrequest_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="withdrawalrequest_decided_has_time",
            ),
        ]
        indexes = [models.Index(fields=["participant", "status"])]

    def __str__(self) -> str:
        return f"withdrawal request #{self.pk}: {self.amount} CNY ({self.status})"


class ProviderScore(models.Model):
    """A provider's reliability as last computed (settlement/reliability.py): one row
    per participant, the same figures for every participant of one legal entity.
    A participant without a row is a new provider, at the prior."""

    participant = models.OneToOneField(
        Participant,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
    )
    entity = models.CharField(_("legal entity"), max_length=64, db_index=True)
    reliability = models.DecimalField(_("reliability"), max_digits=5, decimal_places=4)
    deliveries = models.PositiveIntegerField(_("trades counted"), default=0)
    sold = models.DecimalField(
        _("sold (SCU-h)"), max_digits=20, decimal_places=2, default=0
    )
    delivered = models.DecimalField(
        _("delivered as counted (SCU-h)"), max_digits=20, decimal_places=2, default=0
    )
    disputes_lost = models.PositiveIntegerField(_("disputes lost"), default=0)
    late_reports = models.PositiveIntegerField(_("late reports"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["entity"]
        verbose_name = _("provider score")
        verbose_name_plural = _("provider scores")

    def __str__(self) -> str:
        return f"{self.entity}: {self.reliability}"
