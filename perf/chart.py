"""The picture of an end-to-end comparison: rps and p99 latency per scenario and server, one PNG.

    python3 perf/chart.py results.json out.png     # redraw from `perf/e2e.py --json results.json`

`perf/e2e.py --chart out.png` calls `draw` with the run it just measured. Two panels share the
scenarios on their x axis: the median requests per second of each server (grouped bars, each
labelled with its value), and the median p99 latency (log scale: the servers differ by orders of
magnitude). The title carries the command, the machine and where the servers and wrk ran.
Needs matplotlib (the `perf` extra); it draws with the Agg backend, no display needed.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

COLORS = {"corn": "#2b7a3d", "nginx": "#4c72b0", "gunicorn": "#c44e52"}
OTHER_COLORS = ["#8172b2", "#ccb974", "#64b5cd", "#937860", "#da8bc3", "#8c8c8c", "#55a868", "#dd8452"]


def series(data):
    """(scenarios, servers, {(scenario, server): median row}) in the order the run used."""
    rows = {(r["scenario"], r["server"]): r for r in data["medians"]}
    args = data.get("args", {})
    scenarios = [s for s in args.get("scenario", []) if any(k[0] == s for k in rows)]
    servers = [k for k in args.get("servers", []) if any(key[1] == k for key in rows)]
    for scenario, server in rows:  # a file from another version of the runner: whatever it holds
        scenarios += [scenario] if scenario not in scenarios else []
        servers += [server] if server not in servers else []
    return scenarios, servers, rows


def colors(servers):
    spare = iter(OTHER_COLORS)
    return {kind: COLORS.get(kind) or next(spare, "#666666") for kind in servers}


def compact(value):
    """170427 -> '170k', 1533 -> '1.5k', 194 -> '194'."""
    if value >= 10000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"


def milliseconds(value):
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def grouped_bars(ax, scenarios, servers, rows, key, label):
    """One group of bars per scenario, one bar per server that has a row there, each bar labelled."""
    palette = colors(servers)
    width = min(0.8 / max(len(servers), 1), 0.25)  # a bar's width; a group spans len(servers) of them
    for i, kind in enumerate(servers):
        xs, values = [], []
        for j, scenario in enumerate(scenarios):
            row = rows.get((scenario, kind))
            if row is not None and row.get(key) is not None:
                xs.append(j + width * (i + 0.5 - len(servers) / 2))
                values.append(row[key])
        bars = ax.bar(xs, values, width * 0.92, label=kind, color=palette[kind])
        ax.bar_label(bars, labels=[label(v) for v in values], fontsize=7 if len(servers) > 4 else 8,
                     padding=2, rotation=90 if len(servers) > 4 else 0)
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_xlim(-0.6, len(scenarios) - 0.4)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def title(data):
    m = data.get("machine", {})
    pinning = data.get("pinning", {})
    placement = (f"servers on CPU {pinning['server_cpu']}, wrk on CPU {pinning['client_cpu']}"
                 if pinning else "")
    args = data.get("args", {})
    first = (f"wrk against one worker per server: {args.get('connections', '?')} connections, "
             f"{args.get('duration', '?')} s x {args.get('runs', '?')} run(s), medians")
    second = (f"{m.get('cpu_model', '?')}, nproc {m.get('nproc', '?')}, Linux {m.get('kernel', '?')}, "
              f"load {m.get('loadavg_at_start', '?')}; {placement}")
    return f"{first}\n{second}"


def draw(data, path):
    """Write the PNG of `data` (what `perf/e2e.py --json` writes) to `path`."""
    scenarios, servers, rows = series(data)
    if not rows:
        raise ValueError("no medians to draw (a run with --runs 0?)")
    width = max(8.0, 1.3 + len(scenarios) * (0.45 * len(servers) + 0.6))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(width, 9), sharex=True)
    grouped_bars(top, scenarios, servers, rows, "rps", compact)
    top.set_ylabel("requests per second (median)")
    top.set_ylim(0, max(r["rps"] for r in rows.values()) * 1.22)
    top.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: compact(v)))
    top.legend(ncol=min(len(servers), 5), fontsize=8, loc="upper right")
    grouped_bars(bottom, scenarios, servers, rows, "p99_ms", milliseconds)
    bottom.set_yscale("log")
    bottom.set_ylabel("p99 latency, ms (median, log scale)")
    p99s = [r["p99_ms"] for r in rows.values()]
    bottom.set_ylim(min(p99s) / 4, max(p99s) * 8)  # every bar shows, the smallest too
    bottom.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    bottom.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: milliseconds(v)))
    bottom.tick_params(axis="x", labelsize=10)
    fig.suptitle(title(data), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        draw(json.load(f), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
