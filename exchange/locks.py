"""Row locks, one helper per model. Order of acquisition: the instrument, then the
cluster (sells), then accounts (settlement's batch, all at once by primary key)."""

from exchange.models import Instrument
from market.models import Cluster


# No select_related: the hot paths need only the instrument's own columns, and the
# published tables it refers to are immutable.
def instrument_for_update(instrument_id: int) -> Instrument:
    return Instrument.objects.select_for_update().get(pk=instrument_id)


def cluster_for_update(cluster_id: int) -> Cluster:
    return (
        Cluster.objects.select_for_update(of=("self",))
        .select_related("chip", "region")
        .get(pk=cluster_id)
    )
