"""The account (a key): balances, the ledger, withdrawals, deliveries."""

from typing import Literal

from yiwang_client.calls import Call, operation
from yiwang_client.inputs import Dec
from yiwang_client.models import (
    Account,
    CursorPage,
    Delivery,
    Page,
    Posting,
    Withdrawal,
    WithdrawalStatus,
)
from yiwang_client.operations.common import get_call, json_body, url_path


class AccountOperations:
    """The account's balances, postings and withdrawals; reporting and confirming
    deliveries."""

    @operation("account_retrieve")
    def get_account(self) -> Call[Account]:
        return get_call("account/", Account)

    @operation("account_ledger_list")
    def list_ledger(
        self,
        *,
        account: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[CursorPage[Posting]]:
        params = {"account": account, "cursor": cursor, "limit": limit}
        return get_call("account/ledger/", CursorPage[Posting], **params)

    @operation("account_withdrawals_list")
    def list_withdrawals(
        self,
        *,
        status: WithdrawalStatus | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[Page[Withdrawal]]:
        """Your withdrawal requests, newest first."""
        params = {"status": status, "limit": limit, "offset": offset}
        return get_call("account/withdrawals/", Page[Withdrawal], **params)

    @operation("account_withdrawals_create")
    def request_withdrawal(self, *, amount: Dec) -> Call[Withdrawal]:
        """Ask to be paid out `amount` CNY: it leaves `available` at once (pending)
        until an operator pays it or rejects it. Not sent again after a lost
        answer (a second request would reserve twice): check `list_withdrawals`."""
        body = json_body({"amount": amount})
        return Call(
            "POST", "account/withdrawals/", Withdrawal, body=body, idempotent=False
        )

    @operation("deliveries_list")
    def list_deliveries(
        self,
        *,
        role: Literal["buyer", "seller"] | None = None,
        status: str | None = None,
        instrument: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[CursorPage[Delivery]]:
        params = dict(locals())
        del params["self"]
        return get_call("deliveries/", CursorPage[Delivery], **params)

    @operation("deliveries_report_create")
    def report_delivery(
        self, trade_id: int, *, delivered_quantity: Dec
    ) -> Call[Delivery]:
        """A provider reports what it delivered of a trade it sold."""
        body = json_body({"delivered_quantity": delivered_quantity})
        path = url_path("deliveries/{id}/report/", id=trade_id)
        return Call("POST", path, Delivery, body=body, idempotent=False)

    @operation("deliveries_confirm_create")
    def confirm_delivery(self, trade_id: int) -> Call[Delivery]:
        path = url_path("deliveries/{id}/confirm/", id=trade_id)
        return Call("POST", path, Delivery, body={}, idempotent=False)

    @operation("deliveries_dispute_create")
    def dispute_delivery(
        self, trade_id: int, *, reason: str | None = None
    ) -> Call[Delivery]:
        body = json_body({"reason": reason})
        path = url_path("deliveries/{id}/dispute/", id=trade_id)
        return Call("POST", path, Delivery, body=body, idempotent=False)
