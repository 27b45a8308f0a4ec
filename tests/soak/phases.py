"""The soak's phases once its processes are up: trade under chaos for the set time,
stop the chaos, let every window settle, check, and write the report."""

import json
import logging
import subprocess
import sys
import threading
import time

from django.db import DatabaseError, connections
from django.db.models import Max

from exchange.models import Instrument, Order
from settlement.models import Obligation
from tests.soak import checks, report
from tests.soak.bots import Market, Recorder
from tests.soak.chaos import Chaos
from tests.soak.procs import ROOT, wait_for
from tests.soak.seed import Operator
from tests.soak.traders import KINDS
from tests.soak.watch import BookSampler, every

log = logging.getLogger("soak")
BASE = ROOT / "var" / "soak"


class Run:
    def __init__(self, cfg, nodes, beat, pg, redis, specs, deposited, token, env):
        self.cfg, self.nodes, self.beat = cfg, nodes, beat
        self.pg, self.redis = pg, redis
        self.specs, self.deposited, self.env = specs, deposited, env
        self.rec = Recorder()
        self.market = Market([n.url for n in nodes], ["train", "infer", "hpc"])
        self.sampler = BookSampler(nodes, token)
        self.stop_trading, self.stop = threading.Event(), threading.Event()
        self.notes: list[str] = []

    def go(self) -> int:
        wait_for(self._market_ready, "open instruments of every profile", timeout=120)
        every(2, self.stop, self.market.refresh, "market")
        self.sampler.start(self.market, self.stop)
        operator = Operator(self.stop)
        operator.start()
        bots = self._bots()
        begin = time.time()
        chaos = self.trade_under_chaos(bots)
        end = time.time()
        self.stop_trading.set()
        log.info("chaos over (%d faults); settling every window", len(chaos.faults))
        settled_in = self.settle()
        self.stop.set()
        for bot in bots:
            bot.join(timeout=150)
        operator.join(timeout=10)
        symbols = list(Instrument.objects.values_list("symbol", flat=True))
        self.sampler.sample(symbols, tries=4)  # the books as each process left them
        return self.finish(bots, chaos, operator, begin, end, settled_in)

    def _bots(self) -> list:
        urls, cfg = [n.url for n in self.nodes], self.cfg
        return [
            KINDS[spec.kind](
                spec,
                urls,
                self.market,
                self.rec,
                self.stop_trading,
                self.stop,
                cfg["seed"] + i,
                cfg["interval_s"],
            )
            for i, spec in enumerate(self.specs)
        ]

    def trade_under_chaos(self, bots: list) -> Chaos:
        """Run the bots and the chaos loop for the set minutes; the watchdog
        restarts anything that died unasked. Returns the chaos with its faults."""
        minutes, chaos_stop = self.cfg["minutes"], threading.Event()
        chaos = Chaos(
            nodes=self.nodes,
            beat=self.beat,
            pg=self.pg,
            redis=self.redis,
            minutes=minutes,
            seed=self.cfg["seed"],
            stop=chaos_stop,
        )
        log.info("trading under chaos for %s minutes, %d bots", minutes, len(bots))
        until = time.time() + minutes * 60
        for bot in bots:
            bot.start()
        chaos.start()
        while time.time() < until:
            time.sleep(2)
            chaos.watchdog()
        chaos_stop.set()
        chaos.join()
        chaos.watchdog()
        return chaos

    def _market_ready(self) -> bool:
        self.market.refresh()
        return len(self.market.nearest) == 3

    def settle(self) -> float | None:
        """Wait until no order rests, every trade is settled and every instrument
        that traded is settled; seconds it took, None on the time limit."""
        started = time.time()
        limit = started + self.cfg["window_minutes"] * 180 + 180
        while time.time() < limit:
            try:
                left = (
                    Order.objects.filter(status__in=Order.OPEN_STATUSES).count(),
                    Obligation.objects.exclude(status="settled").count(),
                    Instrument.objects.filter(trades__isnull=False)
                    .exclude(state="settled")
                    .distinct()
                    .count(),
                )
            except DatabaseError:
                connections.close_all()
                left = None
            if left == (0, 0, 0):
                return round(time.time() - started, 1)
            log.info("settling: open orders, unsettled trades, instruments %s", left)
            time.sleep(5)
        self.notes.append("the windows did not all settle within the time limit")
        return None

    def reconcile(self) -> list[str]:
        done = subprocess.run(
            [sys.executable, "manage.py", "reconcile"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        (BASE / "logs" / "reconcile.txt").write_text(done.stdout + done.stderr)
        if done.returncode == 0:
            return []
        return [
            line for line in done.stdout.splitlines() if "FAIL" in line or "- " in line
        ]

    def check(self, dumps: list[dict], settled_in: float | None) -> dict:
        results = {
            "orders exist exactly as the bots were told": checks.orders_as_told(
                self.rec
            ),
            "filled + remaining <= quantity; fills add up": checks.fills_add_up(),
            "warm books equal the event log": checks.books_match_event_log(dumps),
            "every trade settled once; every hold resolved": checks.settled_once(),
            "money conserved": checks.money_conserved(self.deposited),
            "manage.py reconcile passes": self.reconcile(),
        }
        if settled_in is None:
            results["every window settled"] = ["not within the time limit"]
        return results

    def finish(self, bots, chaos, operator, begin, end, settled_in) -> int:
        dumps = list(self.sampler.dumps.values())
        results = self.check(dumps, settled_in)
        report.web_recovery(self.rec, chaos.faults, [n.name for n in self.nodes])
        figs = report.figures(self.rec, chaos.faults, begin, end) | {
            "settle_phase_s": settled_in,
            "book_dumps_compared": len(dumps),
            "web_processes_dumped": len({d["pid"] for d in dumps}),
            "instruments": Instrument.objects.count(),
            "trades_settled": Obligation.objects.filter(status="settled").count(),
            "disputes_resolved": operator.resolved,
        }
        notes = self.notes + chaos.surprises
        if errors := [e for b in bots for e in b.errors]:
            notes.append(f"bot exceptions: {len(errors)}, e.g. {errors[0]}")
        last_end = Instrument.objects.aggregate(m=Max("delivery_end"))["m"]
        config = self.cfg | {"bots": len(bots), "chaos_began": begin}
        config["last_delivery_end"] = str(last_end)
        plot_path = BASE / "soak.png"
        report.plot(self.rec, chaos.faults, begin, end, plot_path)
        report.write(
            BASE / "report.md",
            config=config,
            figs=figs,
            faults=chaos.faults,
            checks=results,
            notes=notes,
            plot_path=plot_path,
        )
        (BASE / "figures.json").write_text(json.dumps(figs, indent=2, default=str))
        violations = sum(len(v) for v in results.values())
        log.info("figures: %s", json.dumps(figs, default=str))
        log.info("report: %s; %d violation(s)", BASE / "report.md", violations)
        return 1 if violations else 0
