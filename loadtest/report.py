#!/usr/bin/env python3
"""Summary of one loadtest/bench CSV: the table per worker count and scenario, the ratios
gateway/nginx and gateway/direct, the metering+sink cost (gateway vs gateway-bare), the added
p99 over nginx at half of nginx's saturation, and where each goal of docs/performance.md stands.
With several rounds per target every figure is the median over the rounds ("spread" is the
rounds' (max - min) / median of requests/s: how much the machine moved under the run). "CPU
us/call" is the CPU time of the target's own processes per call (for nginx its workers too).

usage: report.py RESULTS.csv
"""
import csv
import math
import statistics
import sys

RSS_GOAL_BYTES = 32 * 1024
ADDED_P99_GOAL_MS = 0.2
SINK_COST_GOAL = 0.05
TARGETS = ("direct", "nginx", "gateway", "gateway@baseline", "gateway-bare",
           "gateway-bare@baseline", "gateway-budgets-local", "gateway-budgets-redis")


MEDIAN_FIELDS = ("rate", "rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
                 "cpu_us_per_call", "broker_cpu_us_per_call")
SUM_FIELDS = ("requests", "errors", "non2xx")


def combine(rounds):
    """One row from a target's rounds: medians of the figures, sums of the counts."""
    row = dict(rounds[0])
    for key in MEDIAN_FIELDS:
        values = [float(r[key]) for r in rounds if r.get(key)]
        row[key] = str(statistics.median(values)) if values else ""
    for key in SUM_FIELDS:
        row[key] = str(sum(int(r[key]) for r in rounds if r.get(key)))
    rps = [float(r["rps"]) for r in rounds if r.get("rps")]
    mid = statistics.median(rps) if rps else 0
    row["spread"] = (max(rps) - min(rps)) / mid if len(rps) > 1 and mid else None
    row["rps_by_round"] = {r["round"]: float(r["rps"]) for r in rounds if r.get("rps")}
    row["rounds"] = len(rounds)
    return row


def load(path):
    rows = list(csv.DictReader(open(path)))
    grouped = {}
    for r in rows:
        grouped.setdefault((r["kind"], r["workers"], r["scenario"], r["target"]), []).append(r)
    runs = {key: combine(rounds) for key, rounds in grouped.items()}
    workers = list(dict.fromkeys(r["workers"] for r in rows if r["kind"] == "throughput"))
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows if r["kind"] == "throughput"))
    return rows, runs, workers, scenarios


def num(row, key):
    return float(row[key]) if row and row.get(key) not in (None, "") else None


def fmt(value, width, spec, unit=""):
    """value right-aligned in width characters, or "-" where there is none."""
    text = format(value, spec) + unit if value is not None else "-"
    return text.rjust(width)


def failed(row):
    """A run where more than 1% of the calls failed measures the failure, not the target."""
    if not row:
        return False
    bad = int(row["errors"] or 0) + int(row["non2xx"] or 0)
    return bad > 0.01 * max(1, int(row["requests"] or 0))


def ratio(a, b):
    return a / b if a is not None and b else None


def sink_cost(runs, w, sc):
    """Throughput lost to metering plus the event sink: 1 - gateway / gateway-bare."""
    lost = relative(runs, w, sc, "gateway", "gateway-bare", "rps")
    return -lost if lost is not None else None


def sink_cpu_cost(runs, w, sc):
    """Gateway CPU per call added by metering plus the event sink: gateway / gateway-bare - 1."""
    return relative(runs, w, sc, "gateway", "gateway-bare", "cpu_us_per_call")


def relative(runs, w, sc, target, reference, field):
    """target / reference - 1 for one field of the same worker count and scenario."""
    t = num(runs.get(("throughput", w, sc, target)), field)
    r = num(runs.get(("throughput", w, sc, reference)), field)
    return t / r - 1 if t is not None and r else None


def paired(runs, w, sc, target, reference):
    """target / reference - 1 of req/s round by round: bench runs every target once a round (a
    build right before or after its baseline), so each ratio sees the same machine, and the
    spread of the ratios is the noise of the comparison itself (the spread of one target's
    rounds also holds the machine's drift over the whole run, which both sides share)."""
    t = (runs.get(("throughput", w, sc, target)) or {}).get("rps_by_round", {})
    r = (runs.get(("throughput", w, sc, reference)) or {}).get("rps_by_round", {})
    return [t[k] / r[k] - 1 for k in t if k in r and r[k]]


def median_interval(values, confidence=0.95):
    """The distribution-free confidence interval of a median: the order statistics k and n+1-k
    for the largest k whose binomial tail, P(fewer than k of n values below the median), is at
    most (1 - confidence) / 2. None below 6 values (5 cover the median at 93.75 % at best)."""
    n = len(values)
    ordered = sorted(values)
    tail, k, below = (1 - confidence) / 2, 0, 0.0
    while k < n:
        below += math.comb(n, k) / 2 ** n  # P(exactly k values below the median)
        if below > tail:
            break
        k += 1
    return (ordered[k - 1], ordered[n - k]) if k >= 1 else None


def paired_text(changes):
    """"round by round -7.8 to -2.1 %, median -4.0 % (95 % CI -6.2 to -2.5 %), 9 of 9 slower":
    a change whose interval excludes zero is beyond the comparison's noise; one whose interval
    holds zero is not told apart from it by this run (more rounds narrow the interval)."""
    if len(changes) < 2:
        return ""
    slower = sum(1 for c in changes if c < 0)
    text = (f"; round by round {100 * min(changes):+.1f} to {100 * max(changes):+.1f} %, "
            f"median {100 * statistics.median(changes):+.1f} %")
    interval = median_interval(changes)
    if interval:
        low, high = interval
        verdict = "within noise" if low <= 0 <= high else (
            "slower beyond noise" if high < 0 else "faster beyond noise")
        text += f" (95 % CI {100 * low:+.1f} to {100 * high:+.1f} %: {verdict})"
    return text + f", {slower} of {len(changes)} slower"


# The side-by-side comparisons printed under a scenario: target, what it is measured against
# (bench --baseline's build for the same target; the gateway without spend control), the line.
COMPARISONS = [
    ("gateway", "gateway@baseline", "gateway against the baseline build", "CPU/call"),
    ("gateway-bare", "gateway-bare@baseline", "gateway-bare against the baseline build", "CPU/call"),
    ("gateway-budgets-local", "gateway",
     "budgets + rate limit (gateway-budgets-local vs gateway)", "gateway CPU/call"),
    ("gateway-budgets-redis", "gateway",
     "budgets + rate limit (gateway-budgets-redis vs gateway)", "gateway CPU/call"),
]


def added_p99(runs, w, sc):
    g = num(runs.get(("latency", w, sc, "gateway")), "p99_ms")
    n = num(runs.get(("latency", w, sc, "nginx")), "p99_ms")
    return g - n if g is not None and n is not None else None


def print_tables(runs, workers, scenarios):
    for w in workers:
        print(f"{w} worker(s) each; throughput: wrk, closed loop, saturated")
        print(f"  {'scenario':<16}{'target':<22}{'req/s':>10}{'p50':>9}{'p99':>9}{'p99.9':>9} ms"
              f"{'vs nginx':>10}{'vs direct':>10}{'spread':>8}{'CPU us/call':>12}{'vs nginx':>9}"
              f"{'errors':>8}")
        for sc in scenarios:
            base = {t: num(runs.get(("throughput", w, sc, t)), "rps") for t in TARGETS}
            nginx_cpu = num(runs.get(("throughput", w, sc, "nginx")), "cpu_us_per_call")
            for t in TARGETS:
                r = runs.get(("throughput", w, sc, t))
                if not r:
                    continue
                rps = num(r, "rps")
                vs_n = ratio(rps, base["nginx"]) if t.startswith("gateway") else None
                vs_d = ratio(rps, base["direct"]) if t != "direct" else None
                errors = int(r["errors"] or 0) + int(r["non2xx"] or 0)
                cpu = num(r, "cpu_us_per_call")
                cpu_vs_n = ratio(cpu, nginx_cpu) if t.startswith("gateway") else None
                print(f"  {sc:<16}{t:<22}{rps:>10.0f}{num(r, 'p50_ms'):>9.3f}{num(r, 'p99_ms'):>9.3f}"
                      f"{num(r, 'p999_ms'):>9.3f}   {fmt(vs_n, 9, '.2f', 'x')}{fmt(vs_d, 10, '.2f', 'x')}"
                      f"{fmt(r['spread'] and 100 * r['spread'], 7, '.0f', '%')}{fmt(cpu, 12, '.1f')}"
                      f"{fmt(cpu_vs_n, 8, '.2f', 'x')}{errors:>8}{'  FAILED' if failed(r) else ''}")
            cost, cpu_cost = sink_cost(runs, w, sc), sink_cpu_cost(runs, w, sc)
            if cost is not None:
                broker = num(runs.get(("throughput", w, sc, "gateway")), "broker_cpu_us_per_call")
                print(f"  {'':<16}metering + sink cost (gateway vs gateway-bare): {100 * cost:+.1f}% req/s, "
                      f"{fmt(cpu_cost and 100 * cpu_cost, 0, '+.1f', '%')} gateway CPU/call"
                      f" (+ mock broker {fmt(broker, 0, '.1f')} us/call)")
            for t, reference, label, cpu_label in COMPARISONS:
                rps_change = relative(runs, w, sc, t, reference, "rps")
                if rps_change is not None:
                    cpu = relative(runs, w, sc, t, reference, "cpu_us_per_call")
                    print(f"  {'':<16}{label}: {100 * rps_change:+.1f}% "
                          f"req/s, {fmt(cpu and 100 * cpu, 0, '+.1f', '%')} {cpu_label}"
                          f"{paired_text(paired(runs, w, sc, t, reference))}")
        if any(k[0] == "latency" and k[1] == w for k in runs):
            print(f"{w} worker(s) each; latency: rate_load, open loop at half of nginx's req/s")
            print(f"  {'scenario':<16}{'target':<22}{'rate/s':>10}{'p50':>9}{'p99':>9}{'p99.9':>9} ms"
                  f"{'added p99':>11}{'errors':>8}")
            for sc in scenarios:
                for t in TARGETS:
                    r = runs.get(("latency", w, sc, t))
                    if not r:
                        continue
                    added = added_p99(runs, w, sc) if t == "gateway" else None
                    errors = int(r["errors"] or 0) + int(r["non2xx"] or 0)
                    print(f"  {sc:<16}{t:<22}{num(r, 'rate'):>10.0f}{num(r, 'p50_ms'):>9.3f}"
                          f"{num(r, 'p99_ms'):>9.3f}{num(r, 'p999_ms'):>9.3f}   "
                          f"{fmt(added, 8, '+.3f')}{errors:>8}{'  FAILED' if failed(r) else ''}")
        print()


def goals(rows, runs, workers, scenarios):
    """(goal, measured, met) rows; met is None where a run it rests on failed."""
    out = []

    def valid(kind, w, sc, *targets):
        return not any(failed(runs.get((kind, w, sc, t))) for t in targets)

    for kind, label in (("nonstream", "non-streaming"), ("stream", "streaming")):
        for sc in (s for s in scenarios if s.split("-")[0] == kind):
            for w in workers:
                g = num(runs.get(("throughput", w, sc, "gateway")), "rps")
                n = num(runs.get(("throughput", w, sc, "nginx")), "rps")
                if g is not None and n:
                    out.append((f"throughput >= 1.0x nginx, {label} ({sc}, {w} worker(s))",
                                f"{g / n:.2f}x",
                                g / n >= 1.0 if valid("throughput", w, sc, "gateway", "nginx") else None))
    for sc in scenarios:
        for w in workers:
            added = added_p99(runs, w, sc)
            if added is not None:
                rate = num(runs.get(("latency", w, sc, "nginx")), "rate")
                out.append((f"added p99 over nginx <= {ADDED_P99_GOAL_MS} ms at half saturation "
                            f"({sc}, {w} worker(s), {rate:.0f}/s)", f"{added:+.3f} ms",
                            added <= ADDED_P99_GOAL_MS
                            if valid("latency", w, sc, "gateway", "nginx") else None))
    for r in rows:
        if r["kind"] == "memory":
            fields = dict(kv.split("=", 1) for kv in r["note"].split())
            per_call = float(fields["bytes_per_call"])
            why = "" if fields["capped_by"] == "none" else f", capped by {fields['capped_by']}"
            held = int(fields["calls_held"])
            out.append((f"<= 32 KiB RSS per open streaming call ({held} of "
                        f"{fields['calls_wanted']} held{why})",
                        f"{per_call / 1024:.1f} KiB", per_call <= RSS_GOAL_BYTES if held else None))
    for sc in scenarios:
        for w in workers:
            ok = valid("throughput", w, sc, "gateway", "gateway-bare")
            cost = sink_cost(runs, w, sc)
            if cost is not None:
                out.append((f"metering + sink cost <= 5% vs both off, req/s ({sc}, {w} worker(s))",
                            f"{100 * cost:+.1f}%", cost <= SINK_COST_GOAL if ok else None))
            cost = sink_cpu_cost(runs, w, sc)
            if cost is not None:
                out.append((f"metering + sink cost <= 5% vs both off, CPU/call ({sc}, {w} worker(s))",
                            f"{100 * cost:+.1f}%", cost <= SINK_COST_GOAL if ok else None))
    return out


def main():
    rows, runs, workers, scenarios = load(sys.argv[1])
    print_tables(runs, workers, scenarios)
    for r in rows:
        if r["kind"] == "sink":
            print(f"sink ({r['workers']} worker(s)): {r['note']}")
        if r["kind"] == "baseline":
            print(f"baseline build: {r['note']}")
        if r["kind"] == "redis":
            print(f"redis ({r['scenario']}, {r['workers']} worker(s), round {r['round']}, "
                  f"{float(r['rps']):.0f} req/s): {r['note']}")
    print("\ngoals (same run, side by side):")
    verdicts = {True: "met    ", False: "NOT met", None: "FAILED "}
    for goal, measured, met in goals(rows, runs, workers, scenarios):
        print(f"  {verdicts[met]}  {measured:>12}  {goal}")


if __name__ == "__main__":
    main()
