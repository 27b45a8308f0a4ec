"""Money pages: balances, the ledger statement (paginated, CSV), deposit and
withdrawal requests, and delivery (report, confirm, dispute). Each write is one
durable transaction around one settlement service; a refusal is shown beside the
form, in plain words."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from market.web.access import participant_required
from settlement import deposits, reliability, selectors, services, withdrawals
from settlement.exceptions import DeliveryNotAllowed, InsufficientFunds, NotFound
from settlement.models import Obligation
from settlement.web import pages
from settlement.web.forms import DepositForm, DisputeForm, ReportForm, WithdrawForm


@require_safe
def providers(request):
    """Public: every provider's reliability score and the formula behind it."""
    method = {
        "prior_delivered": reliability.PRIOR_DELIVERED,
        "prior_undelivered": reliability.PRIOR_UNDELIVERED,
        "days": reliability.WINDOW.days,
        "new_provider": reliability.NEW_PROVIDER,
        "late_pct": reliability.LATE_SHARE * 100,
    }
    context = {"providers": selectors.providers_list(), "method": method}
    return render(request, "settlement/providers.html", context)


@require_safe
@participant_required
def balances(request, participant):
    context = pages.balances_context(participant=participant)
    return render(request, "settlement/balances.html", context)


@require_safe
@participant_required
def ledger(request, participant):
    context = pages.ledger_context(participant=participant, params=request.GET)
    return render(request, "settlement/ledger.html", context)


@require_safe
@participant_required
def ledger_csv(request, participant):
    rows = pages.ledger_csv_rows(participant=participant, params=request.GET)
    day = timezone.localdate().isoformat()
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="yiwang-ledger-{participant.pk}-{day}.csv"'
    )
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def deposit(request, participant):
    """Ask for a deposit. In the demo of `make run` (YIWANG_DEMO) the request is
    approved at once, as the page says; otherwise an operator approves it."""
    form = DepositForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(durable=True):
            created = deposits.deposit_request_create(
                participant=participant,
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
            if settings.YIWANG_DEMO:
                deposits.deposit_request_approve(request_id=created.pk, operator=None)
        if settings.YIWANG_DEMO:
            messages.success(request, _("Deposit approved and credited (demo)."))
        else:
            messages.success(
                request, _("Deposit requested. An operator will approve it.")
            )
        return redirect("funds:deposit")
    context = {
        **pages.deposit_context(participant=participant),
        "form": form,
        "auto_approve": settings.YIWANG_DEMO,
    }
    return render(request, "settlement/deposit.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def withdraw(request, participant):
    """Ask to be paid out: the amount is reserved at once and an operator pays it
    out or rejects it (the amount then comes back)."""
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        amount = form.cleaned_data["amount"]
        try:
            with transaction.atomic(durable=True):
                withdrawals.withdrawal_request_create(
                    participant=participant, amount=amount
                )
        except InsufficientFunds as exc:
            form.add_error(
                "amount",
                _(
                    "This withdrawal needs %(amount)s CNY; %(available)s CNY is "
                    "available."
                )
                % {"amount": amount, "available": exc.available},
            )
        else:
            messages.success(
                request,
                _(
                    "Withdrawal of %(amount)s CNY requested. An operator will pay it "
                    "out."
                )
                % {"amount": amount},
            )
            return redirect("funds:withdraw")
    context = {
        **pages.withdraw_context(participant=participant, params=request.GET),
        "form": form,
    }
    return render(request, "settlement/withdraw.html", context)


@require_safe
@participant_required
def deliveries(request, participant):
    context = pages.deliveries_context(participant=participant, params=request.GET)
    return render(request, "settlement/deliveries.html", context)


def _obligation(participant, trade_id: int, role: str) -> Obligation:
    mine = {"buyer": {"buyer": participant}, "seller": {"seller": participant}}[role]
    ob = Obligation.objects.filter(trade_id=trade_id, **mine).first()
    if ob is None:
        raise Http404("No such trade.")
    return ob


def _again(request, participant, trade_id, error="", **bound):
    """The deliveries page again, the failed row showing what was typed and why."""
    context = pages.deliveries_context(
        participant=participant,
        params=request.GET,
        bound={"trade_id": trade_id, "error": error, **bound},
    )
    return render(request, "settlement/deliveries.html", context)


def _refused(request, participant, trade_id, action, ob, **bound):
    error = pages.delivery_refusal(ob, action, timezone.now())
    return _again(request, participant, trade_id, error, **bound)


def _run(step, **kwargs) -> bool:
    try:
        with transaction.atomic(durable=True):
            step(now=timezone.now(), **kwargs)
    except NotFound as exc:
        raise Http404("No such trade.") from exc
    except DeliveryNotAllowed:
        return False
    return True


@require_POST
@participant_required
def delivery_report(request, participant, trade_id: int):
    ob = _obligation(participant, trade_id, "seller")
    form = ReportForm(request.POST, prefix=f"t{trade_id}", quantity=ob.quantity)
    if not form.is_valid():
        return _again(request, participant, trade_id, report_form=form)
    ok = _run(
        services.delivery_report,
        participant=participant,
        trade_id=trade_id,
        delivered=form.cleaned_data["delivered_quantity"],
        reported_by=request.user,
    )
    if not ok:
        return _refused(request, participant, trade_id, "report", ob, report_form=form)
    messages.success(
        request, _("Delivery of trade %(id)s reported.") % {"id": trade_id}
    )
    return redirect("funds:deliveries")


@require_POST
@participant_required
def delivery_confirm(request, participant, trade_id: int):
    ob = _obligation(participant, trade_id, "buyer")
    if not _run(services.delivery_confirm, participant=participant, trade_id=trade_id):
        return _refused(request, participant, trade_id, "confirm", ob)
    messages.success(
        request, _("Delivery of trade %(id)s confirmed.") % {"id": trade_id}
    )
    return redirect("funds:deliveries")


@require_POST
@participant_required
def delivery_dispute(request, participant, trade_id: int):
    ob = _obligation(participant, trade_id, "buyer")
    form = DisputeForm(request.POST, prefix=f"t{trade_id}")
    if not form.is_valid():
        return _again(request, participant, trade_id, dispute_form=form)
    ok = _run(
        services.delivery_dispute,
        participant=participant,
        trade_id=trade_id,
        reason=form.cleaned_data["reason"],
    )
    if not ok:
        return _refused(
            request, participant, trade_id, "dispute", ob, dispute_form=form
        )
    messages.success(
        request,
        _("Trade %(id)s disputed: an operator will set what was delivered.")
        % {"id": trade_id},
    )
    return redirect("funds:deliveries")
