"""Live market data: the market stream and the private stream (Server-Sent Events).

Both are read from the event log (`OrderEvent`, `Trade`), never from pub/sub: an event
is streamed only after its transaction commits, in sequence order per instrument.

- `positions`: the streams' positions (the SSE `id:`), parsed and written.
- `projection`: pure; folds log rows into stream events (trades, level totals) and
  book snapshots, numbering the events of each sequence number.
- `log`: the reads of the event log the streams need.
- `feeds`: per instrument, a projection kept current plus a ring of its recent
  events, from which a resuming client is served.
- `private`: a participant's own events (orders, fills, deliveries, settlement).
- `poller`: the one thread per process that reads the log and feeds the streams;
  `hub`: the event loop's side, bounded per-connection queues and fan-out.
- `pubsub`: after each commit that moved a book, a wake-up on Redis pub/sub.
- `sse`: frames and the response bodies (live under ASGI, one-shot under WSGI).
"""
