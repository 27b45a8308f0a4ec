"""Template tags of the exchange for other apps' pages: the carbon of what a buyer
bought, as a tile of the balances page (settlement's page shows it without settlement
importing the exchange)."""

from django import template

from exchange.marketdata.carbon import buyer_carbon_total

register = template.Library()


@register.inclusion_tag("exchange/_carbon_tile.html")
def buyer_carbon_tile(participant) -> dict:
    """Nothing for a participant who does not buy."""
    if participant is None or not participant.is_buyer:
        return {"carbon": None}
    return {"carbon": buyer_carbon_total(participant=participant)}
