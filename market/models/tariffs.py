"""Time-of-use electricity tariffs (分时电价): per region, the periods of the day
(peak, flat, valley) and their multipliers on the region's electricity price, from
each province's published notice (sources and estimates in fixtures/README.md).

A region's electricity price is its flat-period price; an hour no period covers is
flat (multiplier 1). Kept apart from Region so the schedule is its own fixture
(fixtures/tariffs.json) and its own admin page."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from market.models.catalogue import Region


class TariffPeriodManager(models.Manager):
    def get_by_natural_key(self, region_code: str, start_hour: int):
        return self.get(region__code=region_code, start_hour=start_hour)


class TariffPeriod(models.Model):
    class Kind(models.TextChoices):
        PEAK = "peak", _("peak")
        FLAT = "flat", _("flat")
        VALLEY = "valley", _("valley")

    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="tariff_periods"
    )
    kind = models.CharField(_("period"), max_length=8, choices=Kind.choices)
    # Hours on the Shanghai clock, [start, end); a period across midnight is two rows.
    start_hour = models.PositiveSmallIntegerField(
        _("from (hour)"), validators=[MaxValueValidator(23)]
    )
    end_hour = models.PositiveSmallIntegerField(
        _("to (hour)"), validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    multiplier = models.DecimalField(
        _("multiplier on the flat price"),
        max_digits=5,
        decimal_places=3,
        validators=[MinValueValidator(Decimal(0))],
    )
    estimated = models.BooleanField(_("estimated"), default=False)
    source = models.TextField(_("source"), blank=True)

    objects = TariffPeriodManager()

    class Meta:
        ordering = ["region__code", "start_hour"]
        verbose_name = _("time-of-use period")
        verbose_name_plural = _("time-of-use periods")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "start_hour"], name="tariffperiod_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(end_hour__gt=F("start_hour"), end_hour__lte=24)
                & Q(multiplier__gte=0),
                name="tariffperiod_hours_in_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.start_hour:02d}-{self.end_hour:02d} {self.kind}"

    def natural_key(self) -> tuple[str, int]:
        return (self.region.code, self.start_hour)

    natural_key.dependencies = ["market.region"]

    def clean(self) -> None:
        if self.start_hour is None or self.end_hour is None:
            return
        if self.end_hour <= self.start_hour:
            raise ValidationError({"end_hour": _("Must be after the start.")})
        overlapping = TariffPeriod.objects.filter(
            region_id=self.region_id,
            start_hour__lt=self.end_hour,
            end_hour__gt=self.start_hour,
        ).exclude(pk=self.pk)
        if self.region_id and overlapping.exists():
            raise ValidationError(
                _("The period overlaps another period of the region.")
            )
