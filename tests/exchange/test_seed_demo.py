"""The demo market lists train and infer with their blocks, and its providers' asks
follow their region's time-of-use tariff: a block where power is cheap is quoted
cheaper than the day, one where it is dear dearer; the demo's bids rest below
the asks, so nothing trades until the bots do."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from exchange.models import Instrument, Order, Trade
from tests.exchange.test_products import day_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo(settings):
    settings.YIWANG_DEMO = True  # seed_demo runs only in the demo


PROVIDERS = ("guian", "zhongwei", "horinger", "wuhu", "szgen")


def seeded() -> str:
    """Seed, have an operator verify the providers' clusters (only verified
    clusters sell), seed again (the quotes are idempotent): the stderr of the
    second run."""
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    for username in PROVIDERS:
        call_command(
            "verify_cluster", participant=username, operator="admin", stdout=StringIO()
        )
    err = StringIO()
    call_command("seed_demo", stdout=StringIO(), stderr=err)
    return err.getvalue()


@override_settings(EXCHANGE_LIST_DAYS_AHEAD=1)
def test_demo_lists_blocks_and_prices_night_power_into_the_asks():
    assert seeded() == ""
    day = f"{day_of(1):%Y%m%d}"
    listed = set(Instrument.objects.values_list("symbol", flat=True))
    for profile in ("TRAIN", "INFER"):
        assert {f"{profile}-{day}", f"{profile}-{day}-B0004"} <= listed

    def ask(user, suffix):
        return Order.objects.get(
            participant__user__username=user,
            side="sell",
            instrument__symbol=f"TRAIN-{day}{suffix}",
        ).price

    # Gui'an (Guizhou): valley 00-08, peak 17-22.
    assert ask("guian", "-B0004") < ask("guian", "") < ask("guian", "-B1620")
    # Zhongwei (Ningxia): the valley is at midday (solar), 09-17.
    assert ask("zhongwei", "-B1216") < ask("zhongwei", "-B0004")
    assert not Trade.objects.exists()
    before = Order.objects.count()
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert Order.objects.count() == before
