"""Carbon per trade: delivered SCU-h x TDP (kW) / factor x the selling region's PUE
x its grid intensity, in Decimal; the trade quantity until delivery is reported.
Shown per fill (API and page), per buyer and, in test_monitoring, per region."""

from datetime import timedelta
from decimal import Decimal

import pytest

from exchange.marketdata.carbon import (
    CARBON_FIELDS,
    buyer_carbon_total,
    carbon_rows,
    fill_kg,
    kg_per_scu_h,
    trades_carbon_kg,
    with_carbon_inputs,
)
from exchange.marketdata.fold import candles_fold
from exchange.models import Trade, TradeCarbon
from market.models import ConversionFactor, Region
from settlement.services import delivery_report
from tests.apiclient import client_for
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.marketdata.conftest import Market

pytestmark = pytest.mark.django_db


def test_worked_example():
    """An A100 80GB SXM (400 W, the train reference: factor 1) in Gui'an (PUE 1.20,
    0.5683 kgCO2/kWh): 0.4 kW x 1.20 x 0.5683 = 0.272784 kg per SCU-h, so 10.0 SCU-h
    emit 2.72784 kg, shown as 2.728."""
    footprint = kg_per_scu_h(
        tdp_w=400,
        factor=Decimal("1.000000"),
        pue=Decimal("1.20"),
        intensity=Decimal("0.5683"),
    )
    assert footprint == Decimal("0.272784000")
    assert fill_kg(Decimal("10.0"), footprint) == Decimal("2.728")
    # An H100 (700 W) does 2.5 SCU per chip-hour here: 0.28 kWh per SCU-h at the chip.
    assert kg_per_scu_h(
        tdp_w=700, factor=Decimal("2.5"), pue=Decimal("1.20"), intensity=Decimal("1")
    ) == Decimal("0.336000000")
    assert fill_kg(Decimal("1.0"), None) is None


def test_fill_carbon_from_the_sellers_chip_and_region():
    """A real trade on an H100 in Gui'an: the fill carries its carbon, from the
    instrument's conversion table, in the API (fills and the order's own fills)."""
    instrument = make_instrument()
    seller = make_seller("CLU-GUIAN", "nvidia-h100-sxm-80gb")
    buyer = make_buyer("CITY-SH")
    place(seller, instrument, "sell", "10.0", "12.00")
    trade = place(buyer, instrument, "buy", "10.0", "13.00").fills[0]
    factor = ConversionFactor.objects.get(
        table=instrument.conversion_table,
        profile=instrument.profile,
        chip__code="nvidia-h100-sxm-80gb",
    ).factor
    guian = Region.objects.get(code="CLU-GUIAN")
    per_scu_h = Decimal(700) / 1000 / factor * guian.pue
    expected = (
        Decimal("10.0") * per_scu_h * guian.carbon_intensity_kg_per_kwh
    ).quantize(Decimal("0.001"))
    assert trades_carbon_kg([trade.pk]) == {trade.pk: expected}
    [fill] = client_for(buyer).get("/api/v1/fills/").json()["results"]
    assert fill["carbon_kg"] == str(expected)
    candles_fold(instrument_id=instrument.pk)  # stores the footprint
    stored = TradeCarbon.objects.get(trade=trade)
    assert (stored.tdp_w, stored.factor, stored.pue) == (700, factor, guian.pue)
    # A footprint once determined does not follow later catalogue edits.
    Region.objects.filter(pk=guian.pk).update(pue=Decimal("2.00"))
    assert trades_carbon_kg([trade.pk]) == {trade.pk: expected}


def test_order_response_fills_carry_carbon():
    instrument = make_instrument()
    seller = make_seller("CLU-GUIAN", "nvidia-a100-80gb-sxm")
    buyer = make_buyer("CITY-SH")
    place(seller, instrument, "sell", "10.0", "12.00")
    body = client_for(buyer).post(
        "/api/v1/orders/",
        {
            "instrument": instrument.symbol,
            "side": "buy",
            "type": "limit",
            "time_in_force": "GTC",
            "price": "13.00",
            "quantity": "10.0",
        },
        format="json",
    )
    assert body.status_code == 201, body.content
    assert body.json()["fills"][0]["carbon_kg"] == "2.728"


def test_delivered_quantity_replaces_the_trade_quantity_once_reported():
    instrument = make_instrument()
    seller = make_seller("CLU-GUIAN", "nvidia-a100-80gb-sxm")
    buyer = make_buyer("CITY-SH")
    place(seller, instrument, "sell", "10.0", "12.00")
    trade = place(buyer, instrument, "buy", "10.0", "13.00").fills[0]
    _deliver(seller, trade, "4.0")
    # 4.0 x 0.272784 = 1.091136
    assert trades_carbon_kg([trade.pk]) == {trade.pk: Decimal("1.091")}
    total = buyer_carbon_total(participant=buyer)
    assert (total.kg, total.scu_h, total.trades, total.unknown) == (
        Decimal("1.091"),
        Decimal("4.0"),
        1,
        0,
    )


def _deliver(seller, trade, quantity: str) -> None:
    """The seller reports `quantity` delivered, an hour into the delivery window."""
    delivery_report(
        participant=seller,
        trade_id=trade.pk,
        delivered=Decimal(quantity),
        now=trade.instrument.delivery_start + timedelta(hours=1),
    )


def test_chip_without_a_tdp_has_unknown_carbon_never_zero():
    market = Market(chip="huawei-ascend-910b3")  # no published TDP
    [trade] = market.trades([(0, "12.00", "5.0")])
    assert trades_carbon_kg([trade.pk]) == {trade.pk: None}
    total = buyer_carbon_total(participant=market.buyer)
    assert (total.kg, total.trades, total.unknown) == (Decimal("0.000"), 1, 1)
    candles_fold(instrument_id=market.instrument.pk)
    assert TradeCarbon.objects.get(trade=trade).kg_per_scu_h is None


def test_fills_carbon_in_plain_sql_is_the_querysets():
    """`trades_carbon_kg` (plain SQL, for every order answer) reads what the
    queryset of `with_carbon_inputs` reads: a delivered and folded trade, one folded
    before a catalogue edit, one neither, and one on a chip without a TDP."""
    instrument = make_instrument()
    seller = make_seller("CLU-GUIAN", "nvidia-h100-sxm-80gb")
    buyer = make_buyer("CITY-SH")
    place(seller, instrument, "sell", "30.0", "12.00")
    delivered = place(buyer, instrument, "buy", "10.0", "13.00").fills[0]
    folded = place(buyer, instrument, "buy", "5.0", "13.00").fills[0]
    _deliver(seller, delivered, "4.0")
    candles_fold(instrument_id=instrument.pk)
    Region.objects.filter(code="CLU-GUIAN").update(pue=Decimal("2.00"))
    fresh = place(buyer, instrument, "buy", "2.0", "13.00").fills[0]
    [unknown] = Market(chip="huawei-ascend-910b3").trades([(0, "12.00", "5.0")])
    ids = [delivered.pk, folded.pk, fresh.pk, unknown.pk]
    queryset = with_carbon_inputs(Trade.objects.filter(pk__in=ids))
    expected = {
        r.trade_id: r.kg for r in carbon_rows(queryset.values_list(*CARBON_FIELDS))
    }
    assert trades_carbon_kg(ids) == expected
    assert set(expected) == set(ids)
    assert expected[unknown.pk] is None
    # 4.0 delivered of 10.0; the fresh trade's footprint follows the edited PUE.
    per_scu_h = {pk: expected[pk] / q for pk, q in [(folded.pk, 5), (fresh.pk, 2)]}
    assert per_scu_h[fresh.pk] > per_scu_h[folded.pk]
