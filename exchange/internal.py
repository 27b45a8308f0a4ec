"""Internal endpoints for operating the exchange, not part of the API: today
`GET /internal/book/<symbol>/`, this process's warm book of an instrument as it was
last applied (no catch-up first), with the process id and the book's sequence
number. `make soak` compares each dump with a book rebuilt from the event log at
that sequence number. Guarded by settings.INTERNAL_TOKEN, sent in the
`X-Internal-Token` header; with the setting unset every request is a 404."""

import hmac
import os

from django.conf import settings
from django.db import transaction
from django.http import Http404, JsonResponse
from django.views.decorators.cache import never_cache

from exchange import books, codec, engine
from exchange.models import Instrument, OrderEvent


def book_rows(book: engine.Book) -> list[dict]:
    """The book's resting orders in priority order, as plain JSON (ticks, lots)."""
    return [
        {
            "order_id": o.order_id,
            "participant_id": o.participant_id,
            "side": str(o.side),
            "price": o.price,
            "remaining": o.remaining,
            "priority": o.priority,
            "tif": codec.TIF_NAMES[o.tif],
            "region": o.region,
            "stack": o.stack,
            "constraints": codec.constraints_json(o.constraints)
            if o.constraints is not None
            else None,
            "post_only": o.post_only,
            "expires_at": o.expires_at,
        }
        for o in book.orders()
    ]


def _authorized(request) -> bool:
    token = settings.INTERNAL_TOKEN
    sent = request.headers.get("X-Internal-Token", "")
    return bool(token) and hmac.compare_digest(sent.encode(), token.encode())


@never_cache
def book_dump(request, symbol: str):
    if not _authorized(request):
        raise Http404
    with transaction.atomic(durable=True):
        # The row lock waits out a transaction of this process that is changing the
        # book (it holds the lock while it does), so the dump is never half-applied.
        instrument = (
            Instrument.objects.select_for_update().filter(symbol=symbol).first()
        )
        if instrument is None:
            raise Http404
        book = books.warm(symbol)
        body = {
            "pid": os.getpid(),
            "symbol": symbol,
            "instrument_sequence": instrument.sequence,
            "warm": book is not None,
            "sequence": None if book is None else book.sequence,
            "orders": None if book is None else book_rows(book),
        }
    return JsonResponse(body)


def book_replayed(instrument: Instrument, through: int) -> engine.Book:
    """The instrument's book rebuilt from its event log alone, events 1 to
    `through`: what every warm book at that sequence number must equal."""
    book = engine.Book(books.network_build(instrument), sequence=0)
    events = (
        OrderEvent.objects.filter(instrument=instrument, sequence__lte=through)
        .order_by("sequence")
        .values_list("kind", "sequence", "order_id", "data")
    )
    book.apply(codec.event_from_row(*row) for row in events.iterator())
    return book
