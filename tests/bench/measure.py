#!/usr/bin/env python3
"""Measures one row of the benchmark table: one peer, already running.

    measure.py --name NAME --redis-port P --iperf-port P [--client-pids 1,2]
               [--server-pids 3,4] [--quick] [--skip-newconn REASON] --out FILE

The peer forwards --redis-port to redis-server and --iperf-port to an iperf3
server. --client-pids / --server-pids are the processes of the two tunnel
ends (their children count too); without them (the direct row) the CPU and
memory figures are "-". Writes {"figures": {...}, "notes": {...}, "detail": {...}}
to FILE: a figure is a number or null, and a null figure has a note saying why.
Every step runs under a timeout.
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procfs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The bulk, request, latency and new-connection figures are each the median
# of this many short runs (--quick: one run).
REPEATS = 3


class Row:
    def __init__(self, args):
        self.args = args
        self.figures, self.notes, self.detail = {}, {}, {}
        self.ends = {"client": args.client_pids, "server": args.server_pids}
        self.tunnel = bool(args.client_pids or args.server_pids)

    def cpu(self):
        return sum(procfs.cpu_seconds(p) for p in self.ends.values())

    def rss(self):
        return {end: procfs.rss_kib(p) for end, p in self.ends.items()}

    def set(self, figure, value, note=""):
        self.figures[figure] = value
        if note:
            self.notes[figure] = note
        shown = value if value is not None else "-"
        print(f"  {figure}: {shown}" + (f" ({note})" if note else ""), file=sys.stderr, flush=True)


def redis_benchmark(port, tests, n, clients, keepalive=True, timeout=180):
    """{test: {"rps": .., "p50": ..}} from redis-benchmark --csv."""
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", tests, "-n", str(n),
           "-c", str(clients), "--csv"]
    if not keepalive:
        cmd += ["-k", "0"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    rows = {}
    for rec in csv.DictReader(io.StringIO(run.stdout)):
        rows[rec["test"]] = {"rps": float(rec["rps"]), "p50": float(rec["p50_latency_ms"])}
    if not rows:
        said = [line for line in (run.stdout + run.stderr).splitlines() if line and not line.startswith(('"', "WARN"))]
        raise RuntimeError("redis-benchmark: " + (said[-1] if said else f"no result (exit {run.returncode})"))
    return rows


def bulk(row, port, seconds, reps):
    """iperf3, one stream: the median of `reps` runs of `seconds` each (one
    run swings by 20% when another tenant's burst lands in it)."""
    def sample():
        before = row.cpu()
        out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
        cpu = row.cpu() - before
        end = json.loads(out)
        if "error" in end:
            raise RuntimeError("iperf3: " + end["error"])
        received = end["end"]["sum_received"]
        moved = received["bytes"]
        return {"bulk_mbps": round(moved / received["seconds"] / 1e6, 1), "bulk_cpu_s_per_gb": cpu / (moved / 1e9)}
    m = median_of(row, reps, sample)
    row.set("bulk_mbps", m["bulk_mbps"])
    if row.tunnel:
        row.set("cpu_s_per_gb", round(m["bulk_cpu_s_per_gb"], 3))
    else:
        row.set("cpu_s_per_gb", None, "no tunnel")


def median_of(row, reps, sample):
    """Runs `sample` (returning a dict of figure: value) `reps` times; keeps
    every sample in the detail and returns the median of each figure. Short
    repeated runs resist a burst of load from elsewhere better than one long run."""
    runs = [sample() for _ in range(reps)]
    medians = {}
    for f in runs[0]:
        values = [r[f] for r in runs]
        row.detail.setdefault("samples", {})[f] = values
        medians[f] = sorted(values)[len(values) // 2]
    return medians


def requests(row, port, n, reps):
    def sample():
        r = redis_benchmark(port, "ping_inline,set", n, row.args.clients)
        return {"ping_ops": round(r["PING_INLINE"]["rps"]), "set_ops": round(r["SET"]["rps"])}
    m = median_of(row, reps, sample)
    row.set("ping_ops", m["ping_ops"], row.args.clients_note)
    row.set("set_ops", m["set_ops"], row.args.clients_note)


def latency(row, port, n, reps):
    def sample():
        before = row.cpu()
        r = redis_benchmark(port, "ping_inline", n, 1)
        return {"p50_ms": r["PING_INLINE"]["p50"], "request_cpu_s": row.cpu() - before}
    m = median_of(row, reps, sample)
    row.set("p50_ms", m["p50_ms"])
    if row.tunnel:
        row.set("cpu_us_per_req", round(m["request_cpu_s"] / n * 1e6, 1))
    else:
        row.set("cpu_us_per_req", None, "no tunnel")


def new_connections(row, port, calibrate_n, target_seconds, max_n, reps):
    """-k 0 -c 50: a calibration run sizes each measured run to about target_seconds."""
    clients = row.args.clients
    rate = redis_benchmark(port, "ping_inline", calibrate_n, clients, keepalive=False)["PING_INLINE"]["rps"]
    n = int(min(max(rate * target_seconds, calibrate_n), max_n))
    row.detail["newconn_n"] = n

    def sample():
        before = row.cpu()
        r = redis_benchmark(port, "ping_inline", n, clients, keepalive=False, timeout=target_seconds * 4 + 60)
        return {"newconn_per_s": round(r["PING_INLINE"]["rps"]), "newconn_cpu_s": row.cpu() - before}
    m = median_of(row, reps, sample)
    note = "; ".join(n for n in (row.args.clients_note, row.args.newconn_note) if n)
    row.set("newconn_per_s", m["newconn_per_s"], note)
    if row.tunnel:
        row.set("cpu_ms_per_conn", round(m["newconn_cpu_s"] / n * 1e3, 3), row.args.newconn_note)
    else:
        row.set("cpu_ms_per_conn", None, "no tunnel")


def holdable(row, count):
    """How many connections each end can hold: a proxy end needs two descriptors per connection."""
    limit = min(x for x in (procfs.max_open_files(p) for p in row.ends.values() if p) if x is not None)
    fit = (limit - 100) // 2 // 1000 * 1000
    return count if fit >= count else fit, limit


def idle(row, figure, port, count, deadline, baseline):
    """RSS per idle authenticated connection (both ends, KiB) with `count` held."""
    wanted = count
    count, limit = holdable(row, wanted)
    note = ""
    if count < wanted:
        note = (f"held {count:,}, not {wanted:,}: a tunnel end needs 2 descriptors per connection and "
                f"RLIMIT_NOFILE is {limit} here (raising it needs CAP_SYS_RESOURCE)")
        if count < 1000:
            row.set(figure, None, note)
            return
    holder = subprocess.Popen([sys.executable, os.path.join(HERE, "idle_hold.py"), str(port), str(count),
                               str(deadline), str(row.args.clients)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline()  # idle_hold prints by its own deadline
        result = json.loads(line) if line else {"held": 0, "error": "holder died"}
        row.detail[figure + "_hold"] = result
        if result["held"] < count:
            # Fewer within the time bound (slow handshakes) still give a per-connection figure.
            why = f"held {result['held']:,} of {count:,} ({result['error']})"
            if result["held"] < max(count // 10, 100):
                row.set(figure, None, why)
                return
            note, count = why + "; per connection of those", result["held"]
        time.sleep(0.5)  # let both ends settle after the last handshake
        held = row.rss()
        row.detail[figure + "_held"] = count
        row.detail[figure + "_ends"] = {e: round((held[e] - baseline[e]) / count, 1) for e in held}
        row.set(figure, round(sum(held[e] - baseline[e] for e in held) / count, 1), note)
    finally:
        holder.stdin.close()
        try:
            holder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
        time.sleep(0.5)  # the ends close their sides


def step(row, figures, fn, *args):
    """Runs one measurement; a failure makes its figures "-" with the reason, the row goes on."""
    try:
        fn(row, *args)
    except (Exception, subprocess.TimeoutExpired) as e:  # noqa: BLE001 - reported in the table
        for f in figures:
            if f not in row.figures:
                row.set(f, None, f"failed: {str(e)[:120]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--iperf-port", type=int, required=True)
    pids = lambda s: [int(p) for p in s.split(",") if p]  # noqa: E731
    ap.add_argument("--client-pids", type=pids, default=[])
    ap.add_argument("--server-pids", type=pids, default=[])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-newconn", default="")
    ap.add_argument("--clients", type=int, default=50,
                    help="concurrent clients instead of 50 (ops/s, new connections, idle set-up)")
    ap.add_argument("--clients-note", default="", help="why --clients is not 50 (shown with those figures)")
    ap.add_argument("--newconn-note", default="", help="what a new connection costs in this row (shown with those figures)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    q = args.quick
    row = Row(args)
    print(f"== {args.name}", file=sys.stderr, flush=True)
    start = time.monotonic()

    reps = 1 if q else REPEATS
    step(row, ["bulk_mbps", "cpu_s_per_gb"], bulk, args.iperf_port, 2 if q else 3, reps)
    step(row, ["ping_ops", "set_ops"], requests, args.redis_port, 20000 if q else 50000, reps)
    step(row, ["p50_ms", "cpu_us_per_req"], latency, args.redis_port, 3000 if q else 10000, reps)
    if args.skip_newconn:
        row.set("newconn_per_s", None, args.skip_newconn)
        row.set("cpu_ms_per_conn", None, args.skip_newconn)
    else:
        step(row, ["newconn_per_s", "cpu_ms_per_conn"], new_connections, args.redis_port,
             100, 1.5, 5000 if q else 6000, reps)

    if not row.tunnel:
        for f in ("rss_kib_1k", "rss_kib_10k"):
            row.set(f, None, "no tunnel")
    else:
        baseline = row.rss()
        row.detail["rss_baseline_kib"] = baseline
        step(row, ["rss_kib_1k"], idle, "rss_kib_1k", args.redis_port, 1000, 20, baseline)
        rate = row.figures.get("newconn_per_s")
        if q:
            row.set("rss_kib_10k", None, "--quick: 1,000 only")
        elif rate and rate * 40 < 10000:
            row.set("rss_kib_10k", None, f"10,000 handshakes at {rate:.0f}/s exceed the time bound")
        else:
            step(row, ["rss_kib_10k"], idle, "rss_kib_10k", args.redis_port, 10000, 35, baseline)

    row.detail["seconds"] = round(time.monotonic() - start, 1)
    with open(args.out, "w") as f:
        json.dump({"figures": row.figures, "notes": row.notes, "detail": row.detail}, f, indent=1)


if __name__ == "__main__":
    main()
