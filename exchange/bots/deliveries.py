"""Delivery for the demo's participants: each provider reports what it delivered
(its share of every trade it sold, once the window has started), each buyer confirms
what was reported (or, now and then, disputes it). Several participants in one
process, each with its own login; only the REST API.

    python -m exchange.bots.deliveries --url URL \\
        --accounts guian:1.0,zhongwei:0.7,bjlab --password yiwang-demo

`name:share` is a provider delivering that share of each trade (rounded down to the
lot); a name alone delivers everything it sold and confirms everything it bought.
"""

import logging
import random
import time
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal

from yiwang_client.models import Delivery

from exchange.bots.client import TRANSIENT, Client, base_parser

log = logging.getLogger("yiwang.bots.deliveries")
LOT = Decimal("0.1")


def pending(client: Client, role: str, status: str) -> list[Delivery]:
    return client.list_deliveries(role=role, status=status, limit=500).results


def report(client: Client, share: Decimal, now: datetime) -> int:
    """Report each started trade not reported yet: `share` of its quantity."""
    done = 0
    for row in pending(client, "seller", "pending"):
        if row.delivery_start > now:
            continue
        delivered = (row.quantity * share).quantize(LOT, ROUND_FLOOR)
        client.report_delivery(row.trade_id, delivered_quantity=delivered)
        done += 1
    return done


def confirm(client: Client, rng: random.Random, dispute_share: float) -> int:
    """Confirm what providers reported; dispute a share of it."""
    done = 0
    for row in pending(client, "buyer", "reported"):
        if rng.random() < dispute_share:
            client.dispute_delivery(row.trade_id, reason="less delivered than reported")
        else:
            client.confirm_delivery(row.trade_id)
        done += 1
    return done


def accounts(spec: str) -> list[tuple[str, Decimal]]:
    out = []
    for item in spec.split(","):
        name, _, share = item.strip().partition(":")
        out.append((name, Decimal(share or "1")))
    return out


def main(argv=None) -> int:
    parser = base_parser(__doc__.splitlines()[0], key_name="bot-deliveries")
    parser.add_argument("--accounts", required=True, help="name[:share],...")
    parser.add_argument(
        "--dispute", type=float, default=0.0, help="share of reports disputed"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    rng = random.Random(args.seed)  # noqa: S311  (a simulation, not secrets)
    clients = []
    for name, share in accounts(args.accounts):
        client = Client(args.url)
        client.wait_until_up()
        client.login(
            token=None, username=name, password=args.password, key_name=args.key_name
        )
        clients.append((name, share, client))
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else 0
    while not deadline or time.monotonic() < deadline:
        for name, share, client in clients:
            try:
                reported = report(client, share, datetime.now(UTC))
                confirmed = confirm(client, rng, args.dispute)
            except TRANSIENT as exc:
                log.warning("%s: %s; trying again", name, exc)
                continue
            if reported or confirmed:
                log.info("%s: %d reported, %d confirmed", name, reported, confirmed)
        time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
