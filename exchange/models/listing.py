"""The listing plan of a workload profile: whether the scheduler lists its day, and
which blocks of hours within the day it lists beside it (DESIGN.md, "Products in
time"). A profile without a row follows the settings (EXCHANGE_LISTING_BLOCK_HOURS
for EXCHANGE_LISTING_BLOCK_PROFILES); a row, edited in admin, overrides them."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from market.models import WorkloadProfile

BLOCK = re.compile(r"^([0-9]{2})-([0-9]{2})$")


def parse_blocks(text: str) -> list[tuple[int, int]]:
    """`"00-04,04-08"` as [(0, 4), (4, 8)]: contiguous hours within the day, in
    order and not overlapping. Raises ValidationError."""
    blocks: list[tuple[int, int]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = BLOCK.match(part)
        start, end = (int(match[1]), int(match[2])) if match else (-1, -1)
        if not 0 <= start < end <= 24:
            raise ValidationError(
                _("%(block)s is not a block of hours like 00-04 (from 00 to 24)."),
                params={"block": part},
            )
        if blocks and start < blocks[-1][1]:
            raise ValidationError(
                _("Blocks must be in order and must not overlap (%(block)s)."),
                params={"block": part},
            )
        blocks.append((start, end))
    return blocks


def block_code(start: int, end: int) -> str:
    return f"{start:02d}-{end:02d}"


class ListingPlan(models.Model):
    profile = models.OneToOneField(
        WorkloadProfile, on_delete=models.CASCADE, related_name="listing_plan"
    )
    list_day = models.BooleanField(_("list the day"), default=True)
    blocks = models.CharField(
        _("blocks"),
        max_length=200,
        blank=True,
        help_text=_(
            "Blocks of hours within the day, comma-separated, e.g. "
            "00-04,04-08,08-12,12-16,16-20,20-24. Empty: no blocks."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["profile__code"]
        verbose_name = _("listing plan")
        verbose_name_plural = _("listing plans")

    def __str__(self) -> str:
        return f"{self.profile_id}: {self.blocks or '-'}"

    def clean(self) -> None:
        try:
            parse_blocks(self.blocks)
        except ValidationError as exc:
            raise ValidationError({"blocks": exc.messages}) from exc
