"""An operator lists a special instrument; prints its symbol alone on the last line.
Without --symbol the symbol is derived from the window (`instrument_symbol`)."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from exchange.entry import run_durable
from exchange.exceptions import ExchangeError
from exchange.services.instruments import instrument_create
from market.exceptions import DomainError
from market.models import WorkloadProfile


def _decimal(value: str, name: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise CommandError(f"--{name} is not a number: {value!r}") from exc


class Command(BaseCommand):
    help = "List a special instrument (prints its symbol on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("--profile", required=True)
        parser.add_argument(
            "--delivery-start",
            required=True,
            help="ISO 8601 with offset, e.g. 2026-12-01T00:00+08:00",
        )
        window = parser.add_mutually_exclusive_group()
        window.add_argument("--hours", type=int, help="the window's length (24)")
        window.add_argument(
            "--minutes",
            type=int,
            help="a short window, for tests and drills; deadlines scale with it",
        )
        parser.add_argument("--symbol")
        parser.add_argument("--opening-price")
        parser.add_argument(
            "--price-band-pct", default="20", help="a percentage, or none"
        )

    def handle(self, *args, **o):
        profile = WorkloadProfile.objects.filter(code=o["profile"]).first()
        if profile is None:
            raise CommandError(f"unknown profile {o['profile']!r}")
        try:
            start = datetime.fromisoformat(o["delivery_start"])
        except ValueError as exc:
            raise CommandError(f"bad --delivery-start: {exc}") from exc
        if start.tzinfo is None:
            raise CommandError("--delivery-start needs a UTC offset, e.g. +08:00")
        band = o["price_band_pct"]
        if o["hours"] is None and o["minutes"] is None:
            o["hours"] = 24
        try:
            instrument = run_durable(
                instrument_create,
                profile=profile,
                delivery_start=start,
                hours=o["hours"],
                minutes=o["minutes"],
                symbol=o["symbol"],
                opening_price=_decimal(o["opening_price"], "opening-price")
                if o["opening_price"]
                else None,
                price_band_pct=None
                if band.lower() == "none"
                else _decimal(band, "price-band-pct"),
            )
        except (ExchangeError, DomainError) as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(instrument.symbol)
