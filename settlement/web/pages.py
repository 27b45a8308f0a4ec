"""What the money pages show: balances and open holds, the ledger statement (a page
and the CSV export), deposit and withdrawal requests, and the deliveries a
participant must report, confirm or dispute. Reads only; views render these
contexts."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from market.models import Participant
from settlement import selectors
from settlement.models import DepositRequest, Hold, Obligation, WithdrawalRequest
from settlement.web.forms import DisputeForm, LedgerFilterForm, ReportForm

PAGE_SIZE = 50
ENTRY_KINDS = {
    "deposit": gettext_lazy("deposit"),
    "withdrawal_request": gettext_lazy("withdrawal requested"),
    "withdrawal": gettext_lazy("withdrawal"),
    "withdrawal_return": gettext_lazy("withdrawal returned"),
    "adjustment": gettext_lazy("adjustment"),
    "hold": gettext_lazy("hold"),
    "release": gettext_lazy("release"),
    "fill": gettext_lazy("fill"),
    "settle": gettext_lazy("settlement"),
    "penalty": gettext_lazy("shortfall penalty"),
    "network_payout": gettext_lazy("network payout"),
}
CSV_COLUMNS = (
    "posting_id",
    "created_at",
    "entry_id",
    "entry_kind",
    "reference",
    "account",
    "amount",
    "memo",
)


def balances_context(*, participant: Participant) -> dict:
    holds = Hold.objects.filter(
        participant=participant, status=Hold.Status.OPEN, amount__gt=0
    ).order_by("-pk")
    return {
        "balances": selectors.account_balances(participant=participant),
        "holds": list(holds[:100]),
        "pending_deposits": list(
            participant.deposit_requests.filter(status=DepositRequest.Status.REQUESTED)
        ),
        "pending_withdrawals": list(
            selectors.withdrawal_list(
                participant=participant, status=WithdrawalRequest.Status.PENDING
            )
        ),
    }


def _postings(participant: Participant, params: QueryDict):
    form = LedgerFilterForm(params)
    account = form.cleaned_data.get("account") if form.is_valid() else None
    postings = selectors.posting_list(participant=participant, account=account or None)
    return form, postings.order_by("-pk")


def ledger_context(*, participant: Participant, params: QueryDict) -> dict:
    form, postings = _postings(participant, params)
    page: Page = Paginator(postings, PAGE_SIZE).get_page(params.get("page"))
    rows = list(page)
    for posting in rows:
        posting.kind_label = ENTRY_KINDS.get(posting.entry.kind, posting.entry.kind)
    query = params.copy()
    query.pop("page", None)
    return {"form": form, "page": page, "rows": rows, "query": query.urlencode()}


class _Echo:
    def write(self, value: str) -> str:
        return value


def ledger_csv_rows(*, participant: Participant, params: QueryDict) -> Iterator[str]:
    """The whole filtered statement as CSV lines, newest first (streamed)."""
    _form, postings = _postings(participant, params)
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for p in postings.iterator(chunk_size=500):
        yield writer.writerow(
            [
                p.pk,
                p.created_at.isoformat(),
                p.entry_id,
                p.entry.kind,
                p.entry.reference,
                p.account.kind,
                f"{p.amount:.4f}",
                p.entry.memo,
            ]
        )


def deposit_context(*, participant: Participant) -> dict:
    return {"requests": list(participant.deposit_requests.all()[:50])}


def withdraw_context(*, participant: Participant, params: QueryDict) -> dict:
    """The available balance and the participant's requests, newest first."""
    requests = selectors.withdrawal_list(participant=participant)
    page = Paginator(requests, PAGE_SIZE).get_page(params.get("page"))
    return {
        "balances": selectors.account_balances(participant=participant),
        "page": page,
        "requests": list(page),
    }


@dataclass
class DeliveryRow:
    obligation: Obligation
    role: str  # "buyer" or "seller"
    report_form: ReportForm | None = None
    dispute_form: DisputeForm | None = None
    can_confirm: bool = False
    error: str = ""


def deliveries_context(
    *,
    participant: Participant,
    params: QueryDict,
    bound: dict | None = None,
    now: datetime | None = None,
) -> dict:
    """The participant's trades with the step each side may take now. `bound`
    ({"trade_id", "report_form" | "dispute_form", "error"}) puts a failed form back
    on its row with its message and what was typed."""
    now = now or timezone.now()
    show_all = params.get("show") == "all"
    obligations = selectors.obligation_list(participant=participant).order_by(
        "-trade_id"
    )
    if not show_all:
        obligations = obligations.exclude(status=Obligation.Status.SETTLED)
    page = Paginator(obligations, PAGE_SIZE).get_page(params.get("page"))
    rows = [_row(ob, participant, now) for ob in page]
    for row in rows:
        if bound and row.obligation.trade_id == bound["trade_id"]:
            for name in ("report_form", "dispute_form"):
                if name in bound:
                    setattr(row, name, bound[name])
            row.error = bound.get("error", "")
    return {"rows": rows, "page": page, "show_all": show_all, "now": now}


def _row(ob: Obligation, participant: Participant, now: datetime) -> DeliveryRow:
    open_statuses = (Obligation.Status.PENDING, Obligation.Status.REPORTED)
    prefix = f"t{ob.trade_id}"
    if ob.seller_id == participant.pk:
        row = DeliveryRow(ob, "seller")
        if ob.status in open_statuses:
            row.report_form = ReportForm(
                prefix=prefix,
                quantity=ob.quantity,
                initial={"delivered_quantity": ob.delivered_quantity},
            )
        return row
    row = DeliveryRow(ob, "buyer")
    row.can_confirm = ob.status == Obligation.Status.REPORTED
    if ob.status in open_statuses:
        row.dispute_form = DisputeForm(prefix=prefix)
    return row


def delivery_refusal(ob: Obligation, action: str, now: datetime) -> str:
    """Why a delivery step was refused, in plain words."""
    if ob.status not in (Obligation.Status.PENDING, Obligation.Status.REPORTED):
        return _("This trade is already %(status)s.") % {
            "status": ob.get_status_display()
        }
    if action == "confirm" and ob.status != Obligation.Status.REPORTED:
        return _("The provider has not reported a delivery yet: nothing to confirm.")
    if now < ob.delivery_start:
        return _("The delivery window opens at %(at)s.") % {
            "at": _when(ob.delivery_start)
        }
    deadline = ob.report_deadline if action == "report" else ob.confirm_deadline
    if now > deadline:
        return _("The deadline for this step passed at %(at)s.") % {
            "at": _when(deadline)
        }
    return _("This step is not possible for this trade now.")


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")
