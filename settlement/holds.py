"""The hold rows a ledger batch changes: found (locked) or new, tracked until the
batch writes them. A hold resolves exactly once: releasing one that another
resolver released first fails the whole batch (a conditional update's row count)."""

from dataclasses import dataclass, field

from django.utils import timezone

from core.db import rows_insert, rows_update, unsaved
from settlement.exceptions import HoldAlreadyResolved
from settlement.models import ZERO, Hold
from settlement.persistence import holds_for_update

type Slot = tuple[str, str]  # (kind, reference)


@dataclass
class Holds:
    found: dict[Slot, Hold] = field(default_factory=dict)
    released: set[Slot] = field(default_factory=set)
    absent: set[Slot] = field(default_factory=set)

    def get(self, slot: Slot, *, participant_id: int, instrument: str) -> Hold:
        """The hold of `slot` (locked, or new), tracked from now on."""
        if slot not in self.found:
            hold = None
            if slot not in self.absent:
                kind, reference = slot
                hold = (
                    Hold.objects.select_for_update()
                    .filter(kind=kind, reference=reference)
                    .first()
                )
            self.found[slot] = hold or unsaved(
                Hold,
                kind=slot[0],
                reference=slot[1],
                participant_id=participant_id,
                instrument=instrument,
                amount=ZERO,
            )
        return self.found[slot]

    def prefetch(self, slots: list[Slot]) -> None:
        """Lock the holds of `slots` in one query; the ones that do not exist are
        remembered as new, so `get` does not look for them again."""
        wanted = [slot for slot in slots if slot not in self.found]
        if not wanted:
            return
        for hold in holds_for_update(wanted):
            self.found[hold.kind, hold.reference] = hold
        self.absent.update(slot for slot in wanted if slot not in self.found)

    def known_absent(self, slots: list[Slot]) -> None:
        """The caller knows these holds do not exist yet (orders it just created)."""
        self.absent.update(slot for slot in slots if slot not in self.found)

    def write(self) -> None:
        """Insert the new holds, update the changed ones, resolve the released."""
        now = timezone.now()
        new = [(slot, h) for slot, h in self.found.items() if h.pk is None]
        for slot, hold in new:
            if slot in self.released:
                hold.status, hold.resolved_at = Hold.Status.RELEASED, now
        rows_insert([hold for _slot, hold in new])
        new_slots = {slot for slot, _h in new}
        changed, released = [], []
        for slot, hold in self.found.items():
            if slot in new_slots:
                continue
            (released if slot in self.released else changed).append(hold)
        ids = [hold.pk for hold in released]
        if ids and Hold.objects.filter(pk__in=ids, status=Hold.Status.OPEN).update(
            status=Hold.Status.RELEASED, amount=ZERO, resolved_at=now
        ) != len(ids):
            raise HoldAlreadyResolved(f"holds {ids} were resolved concurrently")
        rows_update(changed, ["amount"])
        self.found.clear()
        self.released.clear()
        self.absent.clear()
