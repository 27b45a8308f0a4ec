"""Trading pages: the markets overview, an instrument (depth, chart, trades, the
order ticket), a participant's orders, fills and capacity, and what the exchange
publishes (a profile's index, the monitoring summary). Thin: parse, call one entry
point or read a page context, render. Exchange services are their own durable entry
points, so they are called directly, never inside a transaction."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)
from django_htmx.http import push_url

from exchange import selectors
from exchange.exceptions import InsufficientCapacity, NotFound, OrderNotOpen
from exchange.models import Order
from exchange.services.clusters import cluster_declare
from exchange.services.orders import order_cancel, orders_cancel_all
from exchange.services.placement import order_place
from exchange.web import bookfilter, mine, pages, published, ticket
from exchange.web.forms import ClusterDeclareForm, OrderTicketForm
from market import selectors as market_selectors
from market.exceptions import DomainError
from market.web.access import participant_of, participant_required


def _instrument(symbol: str):
    try:
        return selectors.instrument_get(symbol=symbol)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


@require_safe
def markets(request):
    context = pages.markets_context(
        params=request.GET, participant=participant_of(request)
    )
    return render(request, "exchange/markets.html", context)


def _instrument_page(request, instrument, bound=None):
    participant = participant_of(request)
    context = pages.instrument_context(
        instrument=instrument, params=request.GET, participant=participant
    )
    context.update(pages.tickets_context(instrument, participant, bound))
    if bound is not None:
        context["preview_" + bound.side] = ticket.preview(bound)
    _filtered_book(request, context)
    return render(request, "exchange/instrument.html", context)


def _filtered_book(request, context: dict) -> None:
    """The book through the constraints the viewer chose (`bookfilter`)."""
    form, constraints = bookfilter.chosen(request)
    book = context["book"]
    if constraints:
        book.update(
            pages.book_context(
                book["instrument"],
                book["region"],
                list(market_selectors.region_list()),
                bookfilter.resolved(constraints),
            )
        )
    book["filter_form"] = form


@require_safe
def instrument(request, symbol: str):
    return _instrument_page(request, _instrument(symbol))


@require_safe
def instrument_book(request, symbol: str):
    """The depth table alone: htmx polls it every few seconds, and the region
    selector asks for it (then the address bar follows the region)."""
    inst = _instrument(symbol)
    regions = list(market_selectors.region_list())
    _form, region, _profile = pages.viewer(
        request.GET, participant_of(request), regions
    )
    context = {"book": pages.book_context(inst, region, regions), "instrument": inst}
    _filtered_book(request, context)
    response = render(request, "exchange/_book.html", context)
    if request.GET.get("push"):
        url = reverse("trading:instrument", args=[inst.symbol])
        push_url(response, f"{url}?region={region.code}")
    return response


@require_safe
def instrument_trades(request, symbol: str):
    """Recent trades (htmx polls them every 3 s), with the header figures and the
    viewer's open orders swapped in out of band."""
    context = pages.trades_context(
        instrument=_instrument(symbol), participant=participant_of(request)
    )
    return render(request, "exchange/_trades.html", context)


@require_safe
def instrument_candles(request, symbol: str):
    payload = pages.candles_payload(
        instrument=_instrument(symbol), interval=request.GET.get("interval", "1m")
    )
    return JsonResponse(payload)


def _ticket_form(request, instrument, side: str, participant) -> OrderTicketForm:
    if side not in ("buy", "sell") or not getattr(participant, f"is_{side}er"):
        raise Http404("No such ticket.")
    return OrderTicketForm(
        request.POST,
        side=side,
        instrument=instrument,
        participant=participant,
        clusters=list(selectors.cluster_list(participant=participant)),
    )


@require_POST
@participant_required
def ticket_preview(request, participant, symbol: str, side: str):
    """The live preview of the ticket as typed, and each field's message swapped
    in beside it."""
    form = _ticket_form(request, _instrument(symbol), side, participant)
    form.is_valid()
    ticket.hush_untouched(form)
    context = {
        "form": form,
        "preview": ticket.preview(form),
        "instrument": form.instrument,
        "oob": True,
    }
    response = render(request, "exchange/_ticket_preview.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@participant_required
def ticket_submit(request, participant, symbol: str, side: str):
    inst = _instrument(symbol)
    form = _ticket_form(request, inst, side, participant)
    if form.is_valid():
        try:
            placed = order_place(participant=participant, request=form.order_request())
        except DomainError as exc:
            ticket.explain(exc, form)
        else:
            _placed_message(request, placed)
            url = reverse("trading:instrument", args=[inst.symbol])
            region = request.GET.get("region")
            return redirect(f"{url}?region={region}" if region else url)
    return _instrument_page(request, inst, bound=form)


def _placed_message(request, placed) -> None:
    order = placed.order
    params = {
        "id": order.pk,
        "status": order.get_status_display(),
        "filled": order.filled_quantity,
        "qty": order.quantity,
    }
    if not placed.created:
        messages.info(
            request, _("This ticket was already placed as order #%(id)s.") % params
        )
    else:
        messages.success(
            request,
            _("Order #%(id)s %(status)s: %(filled)s of %(qty)s SCU-h filled.") % params,
        )


@require_safe
@participant_required
def orders(request, participant):
    context = mine.orders_context(participant=participant, params=request.GET)
    return render(request, "exchange/orders.html", context)


@require_safe
@participant_required
def order_detail(request, participant, order_id: int):
    """One order: what it asked for, its fills, why a resting buy is not filled."""
    try:
        context = mine.order_context(participant=participant, order_id=order_id)
    except NotFound as exc:
        raise Http404 from exc
    return render(request, "exchange/order.html", context)


def _back(request, default: str):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


@require_POST
@participant_required
def order_cancel_view(request, participant, order_id: int):
    if not Order.objects.filter(pk=order_id, participant=participant).exists():
        raise Http404("No such order.")
    try:
        order = order_cancel(participant=participant, order_id=order_id)
    except OrderNotOpen:
        messages.warning(
            request, _("Order #%(id)s was already done.") % {"id": order_id}
        )
    else:
        messages.success(request, _("Order #%(id)s cancelled.") % {"id": order.pk})
    return _back(request, reverse("trading:orders"))


@require_POST
@participant_required
def orders_cancel_all_view(request, participant):
    symbol = request.POST.get("instrument") or None
    cancelled = orders_cancel_all(participant=participant, instrument=symbol)
    count = len(cancelled)
    messages.success(
        request,
        ngettext(
            "%(count)s open order cancelled.", "%(count)s open orders cancelled.", count
        )
        % {"count": count},
    )
    return _back(request, reverse("trading:orders"))


@require_safe
@participant_required
def fills(request, participant):
    context = mine.fills_context(participant=participant, params=request.GET)
    return render(request, "exchange/fills.html", context)


@require_safe
@participant_required
def capacity(request, participant):
    context = mine.capacity_context(participant=participant)
    return render(request, "exchange/capacity.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def cluster_edit(request, participant, cluster_id: int):
    """A provider's cluster: its count (within what is committed) and what it
    declares; beside them, what an operator has verified, which sells carry."""
    try:
        cluster = selectors.cluster_get(participant=participant, cluster_id=cluster_id)
    except NotFound as exc:
        raise Http404 from exc
    initial = {
        "count": cluster.count,
        "confidential": cluster.confidential,
        "certifications": cluster.certification_codes,
    }
    form = ClusterDeclareForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            cluster_declare(
                participant=participant, cluster_id=cluster.pk, **form.cleaned_data
            )
        except InsufficientCapacity:
            peak = mine.cluster_windows(cluster)["committed_peak"]
            form.add_error(
                "count",
                _(
                    "Your sells commit %(peak)s chips in one window: the count "
                    "cannot drop below that."
                )
                % {"peak": peak.normalize() if peak else 0},
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Cluster “%(name)s” saved.") % {"name": cluster.name}
            )
            return redirect("trading:cluster", cluster_id=cluster.pk)
    return render(
        request,
        "exchange/cluster.html",
        {"cluster": cluster, "form": form, **mine.cluster_windows(cluster)},
    )


@require_safe
def index_page(request, profile: str):
    profile_obj = market_selectors.profile_list().filter(code=profile).first()
    if profile_obj is None:
        raise Http404("No such workload profile.")
    context = published.index_context(profile=profile_obj)
    return render(request, "exchange/index.html", context)


@require_safe
def monitoring(request):
    context = published.monitoring_context(params=request.GET)
    return render(request, "exchange/monitoring.html", context)
