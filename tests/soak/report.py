"""The soak's figures and its report: orders per second held, requests refused and
why, latency percentiles, faults survived and the seconds to recover from each kind,
written as markdown with a PNG plot (orders per second and latency over time, the
faults marked) under var/soak/."""

import statistics
from collections import Counter, defaultdict
from pathlib import Path

from tests.soak.bots import Recorder
from tests.soak.chaos import Fault

PLACING = ("order", "batch")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def web_recovery(rec: Recorder, faults: list[Fault], node_names: list[str]) -> None:
    """For faults that take web service away (a worker, a node, PostgreSQL, Redis):
    seconds from the kill until the first order request sent after it was answered
    with an accepted order (on the node hit, or anywhere for the servers)."""
    placed = sorted(
        (start, start + took, node)
        for start, took, kind, node, status in rec.attempts
        if kind in PLACING and status in (200, 201)
    )
    for fault in faults:
        if fault.kind not in ("gunicorn_worker", "node", "postgres", "redis"):
            continue
        node = node_names.index(fault.target) if fault.target in node_names else None
        after = (
            end for start, end, n in placed if start >= fault.at and node in (None, n)
        )
        end = next(after, None)
        fault.recovered_s = None if end is None else round(end - fault.at, 2)


def figures(rec: Recorder, faults: list[Fault], begin: float, end: float) -> dict:
    """The run's figures over the chaos phase [begin, end)."""
    seconds = max(end - begin, 1.0)
    accepted = [t for t in rec.accepted if begin <= t < end]
    per_10s = Counter(int((t - begin) // 10) for t in accepted)
    windows = [per_10s.get(i, 0) / 10 for i in range(int(seconds // 10))]
    latency = [
        took
        for start, took, kind, _node, status in rec.attempts
        if kind in PLACING and isinstance(status, int) and begin <= start < end
    ]
    refused = Counter(
        record.answers[-1][2] or str(record.answers[-1][0])
        for record in rec.orders.values()
        if record.answers and (record.answers[-1][0] or 0) >= 400
    )
    unanswered = sum(
        1 for r in rec.orders.values() if not r.answers or r.answers[-1][0] is None
    )
    retried = Counter(
        str(status)
        for _s, _t, _k, _n, status in rec.attempts
        if not isinstance(status, int) or status >= 500 or status == 429
    )
    recovery = defaultdict(list)
    for fault in faults:
        if fault.recovered_s is not None:
            recovery[fault.kind].append(fault.recovered_s)
    return {
        "seconds": round(seconds),
        "orders_accepted": len(accepted),
        "orders_per_s": round(len(accepted) / seconds, 1),
        "orders_per_s_worst_10s": min(windows) if windows else 0.0,
        "p50_ms": round(percentile(latency, 0.50) * 1000),
        "p99_ms": round(percentile(latency, 0.99) * 1000),
        "max_ms": round(max(latency, default=0) * 1000),
        "refused": dict(refused.most_common()),
        "unanswered": unanswered,
        "order_requests_retried": sum(1 for r in rec.orders.values() if r.attempts > 1),
        "retried_attempts": dict(retried.most_common()),
        "kills": dict(Counter(f.kind for f in faults)),
        "recovery_s": {
            kind: {"median": statistics.median(v), "max": max(v), "n": len(v)}
            for kind, v in recovery.items()
        },
    }


def plot(rec: Recorder, faults: list[Fault], begin: float, end: float, path: Path):
    import matplotlib  # the soak dependency group

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    span = int(end - begin) + 1
    rate = [0] * span
    for t in rec.accepted:
        if begin <= t < end:
            rate[int(t - begin)] += 1
    bins = defaultdict(list)
    for start, took, kind, _node, status in rec.attempts:
        if kind in PLACING and isinstance(status, int) and begin <= start < end:
            bins[int((start - begin) // 10)].append(took * 1000)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(11, 6))
    smooth = [sum(rate[max(0, i - 9) : i + 1]) / 10 for i in range(span)]
    top.plot(range(span), rate, lw=0.5, color="0.7", label="per second")
    top.plot(range(span), smooth, lw=1.5, label="10 s mean")
    top.set_ylabel("orders accepted / s")
    xs = sorted(bins)
    for q, style in ((0.5, "-"), (0.99, "--")):
        ys = [percentile(bins[x], q) for x in xs]
        bottom.plot([x * 10 + 5 for x in xs], ys, style, label=f"p{int(q * 100)}")
    bottom.set_yscale("log")
    bottom.set_ylabel("order latency (ms)")
    bottom.set_xlabel("seconds since the chaos began")
    colours = {"postgres": "red", "redis": "purple", "node": "black"}
    for fault in faults:
        for ax in (top, bottom):
            ax.axvline(
                fault.at - begin, color=colours.get(fault.kind, "orange"), lw=0.8
            )
        top.annotate(
            fault.kind,
            (fault.at - begin, top.get_ylim()[1]),
            rotation=90,
            fontsize=7,
            va="top",
            ha="right",
        )
    top.legend(loc="lower left")
    bottom.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(
    path: Path,
    *,
    config: dict,
    figs: dict,
    faults: list[Fault],
    checks: dict,
    notes: list[str],
    plot_path: Path,
) -> None:
    lines = ["# Soak report", "", "## Run", ""]
    lines += [f"- {k}: {v}" for k, v in config.items()]
    lines += ["", "## Figures", "", "| figure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in figs.items()]
    lines += [
        "",
        f"![orders per second and latency]({plot_path.name})",
        "",
        "## Faults",
        "",
    ]
    lines += [
        "| at (s) | kind | target | detail | recovered (s) |",
        "|---|---|---|---|---|",
    ]
    start = config["chaos_began"]
    lines += [
        f"| {f.at - start:.0f} | {f.kind} | {f.target} | {f.detail} | {f.recovered_s} |"
        for f in faults
    ]
    lines += ["", "## Checks", ""]
    for name, violations in checks.items():
        lines.append(f"- {'ok  ' if not violations else 'FAIL'} {name}")
        lines += [f"    - {v}" for v in violations[:30]]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    path.write_text("\n".join(lines) + "\n")
