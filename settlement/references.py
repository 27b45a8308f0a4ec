"""What a hold or a journal entry refers to: an order or a trade, by key."""


def order_reference(order_id: int) -> str:
    return f"order:{order_id}"


def trade_reference(trade_id: int) -> str:
    return f"trade:{trade_id}"
