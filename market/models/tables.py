"""Published, numbered, immutable tables: unit conversion factors and surcharges.

An instrument binds the versions current when it is listed, and orders and trades record
them, so any figure can be audited later. Rows are written once, when the table is
published; afterwards `save()` and `delete()` raise, the query sets refuse bulk updates
and deletes, and on PostgreSQL triggers refuse UPDATE and DELETE outright.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from market.exceptions import ImmutableRecordError
from market.models.catalogue import ChipModel, Region, WorkloadProfile


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecordError("Published tables cannot be changed.")

    def delete(self):
        raise ImmutableRecordError("Published tables cannot be deleted.")


class ImmutableModel(models.Model):
    """Inserted once, never changed. `objects` refuses updates and deletes."""

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(
                f"{self._meta.verbose_name} {self.pk} is published and cannot change."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(
            f"{self._meta.verbose_name} {self.pk} is published and cannot be deleted."
        )


class ConversionTable(ImmutableModel):
    version = models.PositiveIntegerField(_("version"), unique=True)
    effective_at = models.DateTimeField(_("effective at"))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-version"]
        get_latest_by = "version"
        verbose_name = _("conversion table")
        verbose_name_plural = _("conversion tables")
        permissions = [
            ("publish_conversiontable", "Can propose publishing conversion tables")
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class ConversionFactor(ImmutableModel):
    class Source(models.TextChoices):
        COMPUTED = "computed", _("computed from datasheet figures")
        MEASURED = "measured", _("measured benchmark")

    table = models.ForeignKey(
        ConversionTable, on_delete=models.PROTECT, related_name="factors"
    )
    chip = models.ForeignKey(ChipModel, on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey(
        WorkloadProfile, on_delete=models.PROTECT, related_name="+"
    )
    factor = models.DecimalField(
        _("factor (SCU per chip-hour)"), max_digits=12, decimal_places=6
    )
    # A secondary metric was missing and the weights were renormalized.
    estimated = models.BooleanField(_("estimated"), default=False)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    missing_metrics = models.CharField(_("missing metrics"), max_length=255, blank=True)

    class Meta:
        ordering = ["table", "profile", "chip"]
        verbose_name = _("conversion factor")
        verbose_name_plural = _("conversion factors")
        constraints = [
            models.UniqueConstraint(
                fields=["table", "chip", "profile"], name="conversionfactor_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(factor__gt=0), name="conversionfactor_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.table} {self.profile_id}/{self.chip_id} = {self.factor}"


class BenchmarkFactor(models.Model):
    """A measured factor an operator enters; it wins over the computed one at the next
    publication (the published table, not this row, is what trades use)."""

    chip = models.ForeignKey(
        ChipModel, on_delete=models.CASCADE, related_name="benchmarks"
    )
    profile = models.ForeignKey(
        WorkloadProfile, on_delete=models.CASCADE, related_name="benchmarks"
    )
    factor = models.DecimalField(_("measured factor"), max_digits=12, decimal_places=6)
    source = models.TextField(_("source (benchmark and method)"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["chip", "profile"]
        verbose_name = _("measured benchmark factor")
        verbose_name_plural = _("measured benchmark factors")
        constraints = [
            models.UniqueConstraint(
                fields=["chip", "profile"], name="benchmark_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(factor__gt=0), name="benchmark_factor_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chip.code}/{self.profile.code} = {self.factor}"


class SurchargeTable(ImmutableModel):
    """Per profile: CNY per SCU-h for every linked ordered region pair."""

    profile = models.ForeignKey(
        WorkloadProfile, on_delete=models.PROTECT, related_name="surcharge_tables"
    )
    version = models.PositiveIntegerField(_("version"))
    effective_at = models.DateTimeField(_("effective at"))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["profile", "-version"]
        verbose_name = _("surcharge table")
        verbose_name_plural = _("surcharge tables")
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "version"], name="surchargetable_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} v{self.version}"


class Surcharge(ImmutableModel):
    table = models.ForeignKey(
        SurchargeTable, on_delete=models.PROTECT, related_name="entries"
    )
    sell_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    buy_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    surcharge = models.DecimalField(
        _("surcharge (CNY per SCU-h)"), max_digits=10, decimal_places=2
    )
    latency_ms = models.DecimalField(
        _("one-way latency (ms)"), max_digits=7, decimal_places=2
    )

    class Meta:
        ordering = ["table", "sell_region", "buy_region"]
        verbose_name = _("surcharge")
        verbose_name_plural = _("surcharges")
        constraints = [
            models.UniqueConstraint(
                fields=["table", "sell_region", "buy_region"], name="surcharge_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(surcharge__gte=0), name="surcharge_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sell_region_id}→{self.buy_region_id} {self.surcharge}"
