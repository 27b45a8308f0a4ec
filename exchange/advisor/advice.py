"""The advisor's answer: the ranked plans, the plan at home, and what the page says
about them: whether moving pays (the cheapest plan against the cheapest at home),
whether waiting pays (against the cheapest plan that starts soonest), and the inputs
that decide it (site prices, the surcharge and the data the tariff assumes, the
job's own data and when it could arrive)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from exchange.advisor import plans as p
from exchange.advisor.reads import (
    Request,
    data_arrival,
    instruments_for,
    pairs_for,
    transfer_time,
)


@dataclass(frozen=True, slots=True)
class Advice:
    plans: list[p.Plan]
    home: p.Plan | None
    windows: int  # how many pairs (instrument, region) could sell to the job
    transfer: timedelta
    arrival: datetime
    first_start: datetime | None  # of the windows that fit the job

    @property
    def data_limits(self) -> bool:
        """The job's data reaches other regions only after some window opens."""
        return self.first_start is not None and self.arrival > self.first_start

    @property
    def best(self) -> p.Plan | None:
        return self.plans[0] if self.plans else None

    @property
    def soonest(self) -> p.Plan | None:
        """The cheapest of the plans that start first."""
        if not self.plans:
            return None
        first = min(plan.start for plan in self.plans)
        return next(plan for plan in self.plans if plan.start == first)

    @property
    def move_saving(self) -> Decimal | None:
        """What the cheapest plan saves against the cheapest at home (> 0 when it
        runs elsewhere and that pays); None without both."""
        if self.best is None or self.home is None:
            return None
        return self.home.all_in_cost - self.best.all_in_cost

    @property
    def wait_saving(self) -> Decimal | None:
        """What the cheapest plan saves against starting as soon as possible."""
        if self.best is None or self.soonest is None:
            return None
        return self.soonest.all_in_cost - self.best.all_in_cost

    @property
    def cheapest_remote(self) -> p.Plan | None:
        return next((plan for plan in self.plans if not plan.home), None)


def advise(request: Request, job: p.Job) -> Advice:
    pairs = pairs_for(request)
    ranked, home = p.rank(pairs, job)
    windows = instruments_for(request)
    return Advice(
        plans=ranked,
        home=home,
        windows=len(pairs),
        transfer=transfer_time(request.data_gb),
        arrival=data_arrival(request),
        first_start=windows[0].delivery_start if windows else None,
    )
