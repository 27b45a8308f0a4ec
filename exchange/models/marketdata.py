"""Stored market data: candles per instrument and interval with the watermark of the
trades folded into them, the published daily index per profile, and each trade's
carbon footprint per SCU-h.

Candles are derived data: the trades are the record, and a candle can always be
recomputed from them. The watermark row is the lock that serializes folds of one
instrument, away from the instrument row that order placement locks.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PRICE = {"max_digits": 14, "decimal_places": 2}
MONEY = {"max_digits": 24, "decimal_places": 4}
VOLUME = {"max_digits": 20, "decimal_places": 1}
FOOTPRINT = {"max_digits": 24, "decimal_places": 9}


class Candle(models.Model):
    class Interval(models.TextChoices):
        MINUTE = "1m", _("1 minute")
        HOUR = "1h", _("1 hour")
        DAY = "1d", _("1 day")

    instrument = models.ForeignKey(
        "exchange.Instrument", on_delete=models.PROTECT, related_name="candles"
    )
    interval = models.CharField(_("interval"), max_length=2, choices=Interval.choices)
    # Aware; bucket boundaries are on the Asia/Shanghai clock.
    start = models.DateTimeField(_("start"))
    open = models.DecimalField(_("open"), **PRICE)
    high = models.DecimalField(_("high"), **PRICE)
    low = models.DecimalField(_("low"), **PRICE)
    close = models.DecimalField(_("close"), **PRICE)
    volume = models.DecimalField(_("volume (SCU-h)"), **VOLUME)
    notional = models.DecimalField(_("notional (CNY)"), **MONEY)
    trades = models.PositiveIntegerField(_("trades"))
    first_sequence = models.BigIntegerField()
    last_sequence = models.BigIntegerField()

    class Meta:
        ordering = ["instrument", "interval", "-start"]
        verbose_name = _("candle")
        verbose_name_plural = _("candles")
        constraints = [
            # Its index also serves every page read: (instrument, interval) by start.
            models.UniqueConstraint(
                fields=["instrument", "interval", "start"], name="candle_unique_bucket"
            ),
            models.CheckConstraint(
                condition=Q(volume__gt=0, trades__gt=0)
                & Q(last_sequence__gte=models.F("first_sequence")),
                name="candle_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.interval} {self.start:%Y-%m-%d %H:%M}"


class CandleWatermark(models.Model):
    """The last trade sequence of an instrument folded into its candles."""

    instrument = models.OneToOneField(
        "exchange.Instrument",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="candle_watermark",
    )
    sequence = models.BigIntegerField(_("last folded trade sequence"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("candle watermark")
        verbose_name_plural = _("candle watermarks")

    def __str__(self) -> str:
        return f"{self.instrument_id}#{self.sequence}"


class IndexValue(models.Model):
    """The published index of one profile for one Shanghai day."""

    profile = models.ForeignKey(
        "market.WorkloadProfile", on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    index = models.DecimalField(_("index"), max_digits=18, decimal_places=4)
    volume = models.DecimalField(_("volume (SCU-h)"), **VOLUME)
    trades = models.PositiveIntegerField(_("trades"))
    trimmed = models.PositiveIntegerField(_("trades trimmed"))
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        ordering = ["profile", "-date"]
        verbose_name = _("index value")
        verbose_name_plural = _("index values")
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "date"], name="indexvalue_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} {self.date}: {self.index}"


class TradeCarbon(models.Model):
    """A trade's footprint per delivered SCU-h, with the figures it was computed from
    (the catalogue may change later; a footprint, once determined, does not). Null
    when the chip's TDP is unpublished."""

    trade = models.OneToOneField(
        "exchange.Trade",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="carbon",
    )
    tdp_w = models.PositiveIntegerField(_("TDP (W)"), null=True)
    factor = models.DecimalField(
        _("SCU per chip-hour"), max_digits=12, decimal_places=6, null=True
    )
    pue = models.DecimalField(_("PUE"), max_digits=4, decimal_places=2)
    carbon_intensity_kg_per_kwh = models.DecimalField(
        _("grid carbon intensity (kgCO2/kWh)"), max_digits=6, decimal_places=4
    )
    kwh_per_scu_h = models.DecimalField(_("kWh per SCU-h"), null=True, **FOOTPRINT)
    kg_per_scu_h = models.DecimalField(_("kgCO2 per SCU-h"), null=True, **FOOTPRINT)

    class Meta:
        verbose_name = _("trade carbon footprint")
        verbose_name_plural = _("trade carbon footprints")

    def __str__(self) -> str:
        return f"trade {self.trade_id}: {self.kg_per_scu_h} kg/SCU-h"
