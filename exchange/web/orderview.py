"""What an order asked for, in plain words, and for a resting buy why nothing fills
it now: which resting asks its constraints rule out (per region and chip, with the
rule), and whether the ones they allow cost more all-in than its limit. For the
order's own page and the orders list (a page of orders reads the book once per
instrument)."""

import copy
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exchange import books, codec, eligibility
from exchange.models import Order

RULE_LABELS = {
    "link": gettext_lazy("no network link"),
    "stack": gettext_lazy("software stack"),
    "region": gettext_lazy("regions or data residency"),
    "latency": gettext_lazy("latency"),
    "green_share": gettext_lazy("green-power share"),
    "chip": gettext_lazy("chip"),
    "vendor": gettext_lazy("vendor"),
    "memory": gettext_lazy("memory per chip"),
    "confidential": gettext_lazy("confidential computing (TEE)"),
    "certifications": gettext_lazy("certifications"),
    "reliability": gettext_lazy("provider reliability"),
}


@dataclass
class AskRow:
    group: eligibility.AskGroup
    reasons: list[str]  # in plain words; empty: allowed
    all_in: Decimal | None  # best all-in into the order's origin


@dataclass
class WhyNot:
    """Why a resting buy is not filled now."""

    rows: list[AskRow] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)  # rule -> ask groups it rules out
    best_allowed: Decimal | None = None  # cheapest all-in the constraints allow
    limit: Decimal | None = None

    @property
    def summary(self) -> str:
        if not self.rows:
            return _("No other provider's ask rests in the book now.")
        ruled_out = ", ".join(
            f"{RULE_LABELS[rule]} ({n})" for rule, n in self.counts.most_common()
        )
        if self.best_allowed is None:
            return _(
                "Every resting ask is ruled out by your constraints: %(rules)s."
            ) % {"rules": ruled_out}
        text = _(
            "The cheapest ask your constraints allow costs %(best)s all-in, above "
            "your limit of %(limit)s."
        ) % {"best": self.best_allowed, "limit": self.limit}
        if ruled_out:
            text += " " + _("Ruled out by your constraints: %(rules)s.") % {
                "rules": ruled_out
            }
        return text


def why_not_filled(orders: list[Order]) -> dict[int, WhyNot]:
    """For each resting buy among `orders`, why nothing fills it now."""
    resting = [o for o in orders if o.side == Order.Side.BUY and o.is_open]
    out: dict[int, WhyNot] = {}
    seen: dict[int, tuple] = {}
    for order in resting:
        inst = order.instrument
        if inst.pk not in seen:
            seen[inst.pk] = (
                eligibility.ask_groups(
                    inst, excluding_participant_id=order.participant_id
                ),
                books.network_build(inst),
            )
        groups, network = seen[inst.pk]
        out[order.pk] = _explain(order, copy.deepcopy(groups), network)
    return out


def _explain(order: Order, groups, network) -> WhyNot:
    inst = order.instrument
    eligibility.evaluate(
        groups,
        network,
        order.region.code,
        codec.constraints_engine(order.constraints or {}),
        inst.tick_size,
    )
    why = WhyNot(limit=order.price)
    for group in sorted(groups, key=lambda g: (g.region, g.best_price)):
        texts = eligibility.reason_texts(group, order.constraints or {})
        all_in = None if group.surcharge is None else group.best_price + group.surcharge
        why.rows.append(AskRow(group, texts, all_in))
        why.counts.update(group.reasons)
        if not group.reasons and all_in is not None:
            best = why.best_allowed
            why.best_allowed = all_in if best is None else min(best, all_in)
    return why


def constraint_lines(constraints: dict) -> list[tuple[str, str]]:
    """An order's constraints as (what, value) lines, as understood."""
    c = constraints or {}
    lines = []
    for key, label in (
        ("stacks", _("Software stacks")),
        ("regions", _("Regions")),
        ("residency_zone", _("Data residency")),
        ("chips", _("Chips")),
        ("vendors", _("Vendors")),
        ("certifications", _("Certifications (all required)")),
    ):
        if c.get(key):
            value = c[key]
            lines.append((label, value if isinstance(value, str) else ", ".join(value)))
    if c.get("max_latency_ms") is not None:
        lines.append((_("Max latency (ms)"), str(c["max_latency_ms"])))
    if c.get("min_green_share") is not None:
        share = Decimal(c["min_green_share"]) * 100
        lines.append((_("Min green-power share"), f"{share.normalize()}%"))
    if c.get("min_memory_gb") is not None:
        lines.append((_("Min memory per chip (GB)"), str(c["min_memory_gb"])))
    if c.get("confidential"):
        lines.append((_("Confidential computing (TEE)"), _("required")))
    if c.get("min_reliability") is not None:
        lines.append((_("Min provider reliability"), c["min_reliability"]))
    return lines
