"""`{% live_config instrument %}`: what the instrument page's script needs to keep
the book, the trades and the chart current from the market stream (and "My orders"
from the private stream): where the streams are, the names of the regions, the
instrument's surcharges, and the words it writes, in the page's language. Nothing
without a streams process (EXCHANGE_STREAMS_URL unset): the page polls."""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import json_script
from django.utils.translation import gettext, pgettext

from exchange.models import Instrument
from exchange.web.pages import BOOK_DEPTH, RECENT_TRADES
from market.display import local_name
from market.models import Region, Surcharge

register = template.Library()


@register.simple_tag(takes_context=True)
def live_config(context, instrument: Instrument) -> str:
    request = context["request"]
    base = settings.EXCHANGE_STREAMS_URL.rstrip("/")
    if not base:  # no streams process: the page polls
        return ""
    participant = getattr(request.user, "participant", None)
    market = reverse("api-stream-market") + f"?instruments={instrument.symbol}"
    config = {
        "symbol": instrument.symbol,
        "seq": instrument.sequence,  # what the page shows
        "market": base + market,
        "private": base + reverse("trading:my-stream") if participant else None,
        "trades": reverse("trading:trades", args=[instrument.symbol]),
        "depth": BOOK_DEPTH,
        "recent": RECENT_TRADES,
        "regions": {r.code: local_name(r) for r in Region.objects.all()},
        "surcharges": _surcharges(instrument),
        "states": {str(v): str(label) for v, label in Instrument.State.choices},
        "words": {
            "buyer": pgettext("aggressor", "buyer"),
            "seller": pgettext("aggressor", "seller"),
            "no_asks": gettext("No asks can reach this region."),
            "no_bids": gettext("No bids."),
        },
    }
    return json_script(config, "live-config")


def _surcharges(instrument: Instrument) -> dict[str, dict[str, str]]:
    """sell region -> buy region -> surcharge of the instrument's frozen table."""
    out: dict[str, dict[str, str]] = {}
    rows = Surcharge.objects.filter(table_id=instrument.surcharge_table_id).values_list(
        "sell_region__code", "buy_region__code", "surcharge"
    )
    for sell, buy, amount in rows:
        out.setdefault(sell, {})[buy] = str(amount)
    return out
