"""Create a user and market participant, credit a deposit through the ledger (from
`external`), and optionally print a new API key alone on the last line."""

from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from market.apikeys import apikey_create
from market.exceptions import DomainError
from market.models import Participant, Region
from settlement.interface import deposit_post

ROLES = {"buyer", "seller"}


class Command(BaseCommand):
    help = (
        "Create a participant (user, roles, home region) and credit a deposit; with "
        "--token print a new API key on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="username, also the display name")
        parser.add_argument("--roles", default="buyer", help="buyer,seller")
        parser.add_argument("--deposit", default="0", help="CNY, e.g. 100000")
        parser.add_argument("--region", default="CITY-SH", help="home region code")
        parser.add_argument("--password", help="for the web UI (default: none)")
        parser.add_argument("--token", action="store_true", help="print an API key")

    def handle(self, *args, name, roles, deposit, region, password, token, **o):
        wanted = {r.strip() for r in roles.split(",") if r.strip()}
        if not wanted <= ROLES:
            raise CommandError(f"--roles takes buyer and/or seller, not {roles!r}")
        amount = _amount(deposit)
        home = Region.objects.filter(code=region).first()
        if home is None:
            raise CommandError(f"unknown region {region!r}")
        User = get_user_model()
        if User.objects.filter(username=name).exists():
            raise CommandError(f"user {name!r} exists")
        try:
            with transaction.atomic(durable=True):
                user = User.objects.create_user(name, password=password)
                participant = Participant.objects.create(
                    user=user,
                    display_name=name,
                    is_buyer="buyer" in wanted,
                    is_seller="seller" in wanted,
                    home_region=home,
                )
                if amount:
                    deposit_post(
                        participant=participant,
                        amount=amount,
                        key=f"create_participant:{participant.pk}",
                        memo="initial deposit",
                    )
                key = apikey_create(user=user, name="cli").key if token else None
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"participant {participant.pk} {name} ({', '.join(sorted(wanted))}) "
            f"home {home.code}, deposit {amount} CNY"
        )
        if key is not None:
            self.stdout.write(key)


def _amount(raw: str) -> Decimal:
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:
        raise CommandError(f"--deposit is not a number: {raw!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise CommandError("--deposit must be zero or more")
    return amount
