"""Trading (a key): orders alone or in batches, previews, amendments, cancels, fills
and clusters."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from yiwang_client.calls import Call, operation
from yiwang_client.codec import encode, query
from yiwang_client.inputs import Certification, ConstraintsInput, Dec, NewOrder
from yiwang_client.models import (
    Batch,
    Cancelled,
    Cluster,
    CursorPage,
    Fill,
    Order,
    OrderPreview,
    OrderType,
    OrderWithFills,
    Page,
    Side,
    TimeInForce,
)
from yiwang_client.operations.common import get_call, json_body, url_path


class TradingOperations:
    """Orders and clusters; a placement sent again is answered with the same order."""

    @operation("orders_create")
    def place_order(
        self,
        *,
        instrument: str,
        side: Side,
        quantity: Dec,
        price: Dec | None = None,
        type: OrderType | None = None,
        time_in_force: TimeInForce | None = None,
        post_only: bool | None = None,
        client_order_id: str | None = None,
        expires_at: datetime | None = None,
        cluster: int | None = None,
        region: str | None = None,
        constraints: ConstraintsInput | None = None,
    ) -> Call[OrderWithFills]:
        """Place an order (201), or get back the one placed before under the same
        `client_order_id` and body (200): retries after a lost answer are safe."""
        fields = dict(locals())
        del fields["self"]
        order = self._identified(NewOrder(**fields))
        return Call("POST", "orders/", OrderWithFills, body=encode(order))

    @operation("orders_preview_create")
    def preview_order(
        self,
        *,
        instrument: str,
        side: Side,
        quantity: Dec,
        price: Dec | None = None,
        type: OrderType | None = None,
        time_in_force: TimeInForce | None = None,
        post_only: bool | None = None,
        client_order_id: str | None = None,
        expires_at: datetime | None = None,
        cluster: int | None = None,
        region: str | None = None,
        constraints: ConstraintsInput | None = None,
    ) -> Call[OrderPreview]:
        """What `place_order` with these fields would do now, writing nothing; the
        refusal placing it would get is raised the same way."""
        fields = dict(locals())
        del fields["self"]
        return Call(
            "POST", "orders/preview/", OrderPreview, body=encode(NewOrder(**fields))
        )

    @operation("orders_batch_create")
    def place_orders(self, orders: Sequence[NewOrder]) -> Call[Batch]:
        """Up to 100 orders, each its own transaction, answered in order."""
        body = {"orders": [encode(self._identified(o)) for o in orders]}
        return Call("POST", "orders/batch/", Batch, body=body)

    @operation("orders_list")
    def list_orders(
        self,
        *,
        status: str | None = None,
        instrument: str | None = None,
        client_order_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[Page[Order]]:
        params = dict(locals())
        del params["self"]
        return get_call("orders/", Page[Order], **params)

    @operation("orders_retrieve")
    def get_order(self, order_id: int) -> Call[OrderWithFills]:
        return get_call(url_path("orders/{id}/", id=order_id), OrderWithFills)

    @operation("orders_partial_update")
    def amend_order(
        self, order_id: int, *, price: Dec | None = None, quantity: Dec | None = None
    ) -> Call[OrderWithFills]:
        """A resting limit order's new price and/or total quantity (> filled)."""
        body = json_body({"price": price, "quantity": quantity})
        path = url_path("orders/{id}/", id=order_id)
        return Call("PATCH", path, OrderWithFills, body=body, idempotent=False)

    @operation("orders_cancel")
    def cancel_order(self, order_id: int) -> Call[OrderWithFills]:
        """Cancel an open order. Sent again after a lost answer, a cancel that went
        through the first time raises `Conflict` (code order_not_open)."""
        return Call("DELETE", url_path("orders/{id}/", id=order_id), OrderWithFills)

    @operation("orders_cancel_all")
    def cancel_orders(
        self, *, instrument: str | None = None, side: Side | None = None
    ) -> Call[Cancelled]:
        """Cancel every open order (of `instrument`, of `side`)."""
        params = query({"instrument": instrument, "side": side})
        return Call("DELETE", "orders/", Cancelled, params)

    @operation("fills_list")
    def list_fills(
        self,
        *,
        instrument: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[CursorPage[Fill]]:
        params = {"instrument": instrument, "cursor": cursor, "limit": limit}
        return get_call("fills/", CursorPage[Fill], **params)

    @operation("clusters_list")
    def list_clusters(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> Call[Page[Cluster]]:
        return get_call("clusters/", Page[Cluster], limit=limit, offset=offset)

    @operation("clusters_create")
    def create_cluster(
        self,
        *,
        name: str,
        region: str,
        chip: str,
        count: int,
        confidential: bool | None = None,
        certifications: list[Certification] | None = None,
    ) -> Call[Cluster]:
        body = dict(locals())
        del body["self"]
        return Call(
            "POST", "clusters/", Cluster, body=json_body(body), idempotent=False
        )

    @operation("clusters_retrieve")
    def get_cluster(self, cluster_id: int) -> Call[Cluster]:
        return get_call(url_path("clusters/{id}/", id=cluster_id), Cluster)

    def new_client_order_id(self) -> str:
        raise NotImplementedError  # the client's (ClientBase)

    def _identified(self, order: NewOrder) -> NewOrder:
        """`order` with a client_order_id: its own, else a fresh one."""
        if order.client_order_id is not None:
            return order
        return replace(order, client_order_id=self.new_client_order_id())
