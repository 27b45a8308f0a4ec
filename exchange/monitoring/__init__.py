"""Watching the market and the machinery: what flows where (regions, hubs, carbon),
and the Prometheus metrics of the service (placements, fills, queue depth, settlement
lag).

- `regions`: per region and hub, capacity listed, sold, delivered, utilization,
  average price and carbon; the flows between buy and sell regions.
- `health`: Celery queue depth and settlement lag, read when asked.
- `metrics`: the Prometheus counters, the collector of live gauges, `/metrics`.
- `observe`: what follows an order command at the service boundary (counters,
  latency, the candle fold).
"""
