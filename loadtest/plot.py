#!/usr/bin/env python3
"""SVG of one loadtest/bench CSV: p50/p99/p99.9 latency per target, one panel per scenario
(columns) and per worker count and load (rows: wrk saturated, rate_load at half of nginx's
saturation), log scale shared by every panel; medians over the rounds, as report.py prints.
Standard library only.

usage: plot.py RESULTS.csv OUT.svg
"""
import math
import sys
from xml.sax.saxutils import escape

import report

TARGETS = ("direct", "nginx", "gateway", "gateway-bare")
PERCENTILES = (("p50_ms", "p50", "#9ecae1"), ("p99_ms", "p99", "#3182bd"),
               ("p999_ms", "p99.9", "#08306b"))
KINDS = (("throughput", "saturated (wrk)"), ("latency", "open loop, half of nginx"))
PANEL_W, PANEL_H = 340, 230
LEFT, TOP, BOTTOM = 56, 34, 48  # inside a panel: axis labels, title, target labels


def load(path):
    _, runs, _, _ = report.load(path)
    runs = {key: r for key, r in runs.items() if key[0] in dict(KINDS)}
    rows = list(runs.values())
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    panels = list(dict.fromkeys((r["workers"], r["kind"]) for r in rows))
    return rows, scenarios, panels, runs


def short_rate(value):
    return f"{value / 1000:.1f}k/s" if value >= 1000 else f"{value:.0f}/s"


def main():
    rows, scenarios, panels, runs = load(sys.argv[1])
    values = [float(r[k]) for r in rows for k, _, _ in PERCENTILES if r[k] and float(r[k]) > 0]
    # The lowest decade sits below the smallest value so that no bar has zero height.
    lo = 10 ** math.floor(math.log10(min(values)) - 1e-9) if values else 0.01
    if values and lo >= min(values):
        lo /= 10
    hi = 10 ** math.ceil(math.log10(max(values))) if values else 10
    width = 20 + PANEL_W * max(1, len(scenarios))
    height = 60 + PANEL_H * max(1, len(panels))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="14" font-weight="bold">'
           f'{escape(sys.argv[1].rsplit("/", 1)[-1])}: latency percentiles (ms, log scale)</text>']
    for i, (_, label, color) in enumerate(PERCENTILES):  # legend
        x = 10 + i * 70
        out.append(f'<rect x="{x}" y="30" width="12" height="12" fill="{color}"/>'
                   f'<text x="{x + 16}" y="40">{label}</text>')

    def y_of(value, top, plot_h):
        frac = (math.log10(max(value, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return top + plot_h * (1 - frac)

    for row, (workers, kind) in enumerate(panels):
        for col, scenario in enumerate(scenarios):
            x0, y0 = 10 + col * PANEL_W, 50 + row * PANEL_H
            plot_x, plot_top = x0 + LEFT, y0 + TOP
            plot_w, plot_h = PANEL_W - LEFT - 10, PANEL_H - TOP - BOTTOM
            title = f"{scenario}, {workers} worker{'s' if workers != '1' else ''}: {dict(KINDS)[kind]}"
            out.append(f'<text x="{x0 + 4}" y="{y0 + 16}" font-size="10.5" font-weight="bold">'
                       f'{escape(title)}</text>')
            out.append(f'<rect x="{plot_x}" y="{plot_top}" width="{plot_w}" height="{plot_h}" '
                       f'fill="none" stroke="#999"/>')
            decade = lo
            while decade <= hi * 1.0001:
                y = y_of(decade, plot_top, plot_h)
                out.append(f'<line x1="{plot_x}" y1="{y:.1f}" x2="{plot_x + plot_w}" y2="{y:.1f}" '
                           f'stroke="#ddd"/><text x="{plot_x - 4}" y="{y + 4:.1f}" '
                           f'text-anchor="end">{decade:g}</text>')
                decade *= 10
            present = [t for t in TARGETS if (kind, workers, scenario, t) in runs]
            group_w = plot_w / max(1, len(present))
            bar_w = group_w * 0.8 / len(PERCENTILES)
            for g, target in enumerate(present):
                r = runs[(kind, workers, scenario, target)]
                gx = plot_x + g * group_w + group_w * 0.1
                for b, (key, label, color) in enumerate(PERCENTILES):
                    if not r[key]:
                        continue
                    value = float(r[key])
                    y = y_of(value, plot_top, plot_h)
                    out.append(f'<rect x="{gx + b * bar_w:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" '
                               f'height="{plot_top + plot_h - y:.1f}" fill="{color}">'
                               f'<title>{escape(f"{target} {label} {value:.3f} ms")}</title></rect>')
                cx = plot_x + g * group_w + group_w / 2
                rate = float(r["rps"]) if r["rps"] else 0
                out.append(f'<text x="{cx:.1f}" y="{plot_top + plot_h + 14}" text-anchor="middle" font-size="10">'
                           f'{escape(target)}</text><text x="{cx:.1f}" y="{plot_top + plot_h + 27}" '
                           f'text-anchor="middle" fill="#555">{short_rate(rate)}</text>')
    out.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
