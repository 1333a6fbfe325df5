#!/usr/bin/env python3
"""Draws scripts/bench's chart: throughput and p99 latency of each scenario, side by side.

    chart.py RESULTS.tsv CHART.png "machine and run description"

RESULTS.tsv: one scenario a line, `label<TAB>requests per second<TAB>p99 in ms`.
Both axes are logarithmic: the scenarios span a GET at tens of thousands of requests per
second and a sign-in at tens.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402


def number(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def main() -> None:
    source, target, caption = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = []
    with open(source, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                label, rps, p99 = line.rstrip("\n").split("\t")
                rows.append((label, float(rps), float(p99)))
    labels = [r[0] for r in rows]
    ys = range(len(rows))
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12, 0.55 * len(rows) + 1.6), sharey=True, constrained_layout=True
    )
    for ax, values, title, colour, unit in (
        (left, [r[1] for r in rows], "throughput (requests/s, more is better)", "#3b7dd8", ""),
        (right, [r[2] for r in rows], "p99 latency (ms, less is better)", "#d8703b", " ms"),
    ):
        ax.barh(ys, values, color=colour)
        ax.set_xscale("log")
        ax.set_xlim(min(values) / 2, max(values) * 8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        ax.set_title(title, fontsize=11)
        ax.grid(axis="x", which="major", alpha=0.3)
        for y, v in zip(ys, values):
            ax.text(v * 1.08, y, number(v) + unit, va="center", fontsize=9)
    left.set_yticks(list(ys), labels, fontsize=9)
    left.invert_yaxis()
    fig.suptitle("Portcullis benchmarks (scripts/bench)", fontsize=13)
    fig.text(0.5, -0.01, caption, ha="center", va="top", fontsize=8, color="#555555")
    fig.savefig(target, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
