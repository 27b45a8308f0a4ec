"""Default network links derived from coordinates (see fixtures/README.md).

No public table of inter-hub latency or transfer price exists, so defaults follow the
rules in shared/refdata/README.md: one-way latency = great-circle distance x 2 (route
factor) x 5 us/km + 0.5 ms, which reproduces CAICT's hub-to-hub measurements (9.7 ms
mean, 17.1 ms max); transfer price 0 within a hub, and across hubs 0.20 CNY/GB plus 0.10
per 1000 km, capped at 0.50 (the README's 0.2-0.5 range for operator-set prices).
"""

import math
from decimal import ROUND_HALF_UP, Decimal

EARTH_RADIUS_KM = 6371.0
ROUTE_FACTOR = 2
MS_PER_KM = Decimal("0.005")
LATENCY_FLOOR_MS = Decimal("0.5")
TRANSFER_BASE_CNY_PER_GB = Decimal("0.20")
TRANSFER_PER_1000_KM = Decimal("0.10")
TRANSFER_CAP_CNY_PER_GB = Decimal("0.50")
# One-way latency inside a region (the formula at zero distance).
INTRA_REGION_LATENCY_MS = LATENCY_FLOOR_MS


def great_circle_km(
    lat1: Decimal, lon1: Decimal, lat2: Decimal, lon2: Decimal
) -> Decimal:
    """Haversine distance, to the metre."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2) - math.radians(lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
    return Decimal(repr(km)).quantize(Decimal("0.001"))


def latency_ms(distance_km: Decimal) -> Decimal:
    return (distance_km * ROUTE_FACTOR * MS_PER_KM + LATENCY_FLOOR_MS).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )


def transfer_cny_per_gb(distance_km: Decimal, *, same_hub: bool) -> Decimal:
    if same_hub:
        return Decimal("0.0000")
    price = TRANSFER_BASE_CNY_PER_GB + TRANSFER_PER_1000_KM * distance_km / 1000
    return min(price, TRANSFER_CAP_CNY_PER_GB).quantize(Decimal("0.01"), ROUND_HALF_UP)
