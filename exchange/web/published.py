"""What the exchange publishes beyond the trading pages: a profile's index page (the
method, the history as a table and a chart) and the national monitoring view (the
public summary, and the operators' view that also names the buyers and shows the
machinery's health). Contexts only; the views render them."""

from django.http import QueryDict

from exchange.marketdata import forward, index
from exchange.monitoring import health, regions
from exchange.web.forms import MonitoringForm
from exchange.web.pages import profiles_ordered
from market.models import WorkloadProfile
from market.scopes import NATIONAL, Scope

INDEX_DAYS = 366


def index_context(*, profile: WorkloadProfile) -> dict:
    series = index.index_series(profile=profile, days=INDEX_DAYS)
    chain = index.chain_series(profile=profile)
    curve = forward.forward_curve(profile=profile)
    return {
        "profile": profile,
        "profiles": profiles_ordered(),
        "series": series,
        "latest": series[0] if series else None,
        "chain_latest": chain[-1] if chain else None,
        "chain_first": chain[0] if chain else None,
        "mad_limit": index.MAD_LIMIT,
        "floor_pct": index.FLOOR_PCT,
        "stale_days": index.STALE_DAYS,
        "chain_days": index.CHAIN_DAYS,
        "chain_base": index.CHAIN_BASE,
        # Oldest first, decimals as strings: the page turns them into numbers only
        # to draw them.
        "chart": [
            {"time": day.date.isoformat(), "value": str(day.index)}
            for day in reversed(series)
        ],
        "chain_chart": [
            {"time": d.date.isoformat(), "value": str(d.value)} for d in chain
        ],
        "curve": curve,
        "curve_chart": [
            {
                "time": int(point.delivery_start.timestamp()),
                "value": str(point.price),
                "product": point.product,
                "basis": point.basis,
                "symbol": point.symbol,
            }
            for point in curve
            if point.price is not None
        ],
    }


def _scope(params: QueryDict) -> tuple[MonitoringForm, int, str | None]:
    form = MonitoringForm(
        {"days": params.get("days") or "30", "profile": params.get("profile", "")},
        profiles=profiles_ordered(),
    )
    days, profile = form.scope()
    return form, days, profile


def monitoring_context(*, params: QueryDict) -> dict:
    form, days, profile = _scope(params)
    return {
        "form": form,
        "days": days,
        "view": regions.national_view(days=days, profile=profile),
    }


def operator_monitoring_context(*, params: QueryDict, scope: Scope = NATIONAL) -> dict:
    """The monitoring view for an operator: a regional one's hub only, an
    industry one's without the buyers' names (they are not all its)."""
    form, days, profile = _scope(params)
    view = regions.national_view(
        days=days, profile=profile, with_buyers=not scope.industry
    )
    if scope.hub_id is not None:
        view = regions.hub_view(view, scope.hub_id)
    return {
        "form": form,
        "days": days,
        "view": view,
        "queues": health.queue_depths(),
        "settlement_lag_s": health.settlement_lag_seconds(),
        "disputes": health.disputes_open(),
        "unfolded": health.trades_unfolded(),
    }
