#!/usr/bin/env python3
"""Builds the benchmark table (markdown, stdout) and the JSON file.

    report.py --rows DIR --order a,b,c --meta META.json [--callgrind CG.json] --json OUT

DIR holds one NAME.json per row (measure.py's output). Each figure is shown
with two ratios: to the direct row, and to the best peer, the best of the
rows that are not authchain's (stunnel, spiped, ssh -L): the highest for a
rate, the lowest for a cost. A figure that could not be measured is "-"
with a numbered note saying why; a figure measured otherwise than its
label says carries a numbered note too.
"""
import argparse
import json
import os

# key, label, "high" when more is better, digits
FIGURES = [
    ("bulk_mbps", "bulk MB/s, iperf3 1 stream", "high", 0),
    ("ping_ops", "redis PING_INLINE ops/s, -c 50", "high", 0),
    ("set_ops", "redis SET ops/s, -c 50", "high", 0),
    ("p50_ms", "PING p50 ms, -c 1", "low", 3),
    ("cpu_us_per_req", "tunnel CPU µs per request, -c 1 (both ends)", "low", 0),
    ("newconn_per_s", "new connections/s, -k 0 -c 50", "high", 0),
    ("cpu_ms_per_conn", "CPU ms per new connection (both ends)", "low", 2),
    ("rss_kib_1k", "RSS KiB per idle connection, 1,000 held (both ends)", "low", 1),
    ("rss_kib_10k", "RSS KiB per idle connection, 10,000 held (both ends)", "low", 1),
    ("cpu_s_per_gb", "CPU s per GB moved (both ends)", "low", 2),
]


def is_peer(name):
    return name != "direct" and not name.startswith("authchain")


def best_peer(rows, key, better):
    values = [(r["figures"].get(key), n) for n, r in rows.items() if is_peer(n)]
    values = [(v, n) for v, n in values if v is not None]
    if not values:
        return None, None
    return (max if better == "high" else min)(values)


def ratio(v, ref):
    return round(v / ref, 2) if v is not None and ref else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", required=True)
    ap.add_argument("--order", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--callgrind")
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    rows = {}
    for name in a.order.split(","):
        path = os.path.join(a.rows, name + ".json")
        if os.path.exists(path):
            with open(path) as f:
                rows[name] = json.load(f)
        else:
            why = "not measured"
            if os.path.exists(os.path.join(a.rows, name + ".skipped")):
                with open(os.path.join(a.rows, name + ".skipped")) as f:
                    why = f.read().strip()
            rows[name] = {"figures": {}, "notes": {k: why for k, *_ in FIGURES}, "detail": {}}
    with open(a.meta) as f:
        meta = json.load(f)

    notes, ratios = [], {}
    def note_mark(text):
        if text not in notes:
            notes.append(text)
        return f"-[{notes.index(text) + 1}]"

    header = "| figure | " + " | ".join(rows) + " |"
    lines = [header, "|---" * (len(rows) + 1) + "|"]
    for key, label, better, digits in FIGURES:
        direct = rows.get("direct", {}).get("figures", {}).get(key)
        best, best_name = best_peer(rows, key, better)
        cells = []
        for name, r in rows.items():
            v = r["figures"].get(key)
            if v is None:
                cells.append(note_mark(r["notes"].get(key, "not measured")))
                continue
            rd, rb = ratio(v, direct), ratio(v, best)
            ratios.setdefault(name, {})[key] = {"to_direct": rd, "to_best_peer": rb, "best_peer": best_name}
            extra = [f"{rd:.2f}d" if rd is not None else "", f"{rb:.2f}p" if rb is not None else ""]
            extra = " ".join(e for e in extra if e)
            mark = note_mark(r["notes"][key])[1:] if key in r["notes"] else ""
            cells.append(f"{v:,.{digits}f}{mark}" + (f" ({extra})" if extra else ""))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    print(f"authchain benchmark, {meta['date']}: `{meta['command']}`")
    print(f"{meta['machine']} — shared machine, numbers are noisy (load average {meta['load_before']} before, "
          f"{meta['load_after']} after)")
    if meta.get("aes_gcm"):
        print(f"authchain's AES-GCM of long records: {meta['aes_gcm']}")
    print()
    print("\n".join(lines))
    print()
    print("(0.23d 0.96p) = ratio to direct, ratio to the best peer (of stunnel, spiped, ssh -L: the highest rate "
          "or the lowest cost); below 1 is better for costs, above 1 for rates.")
    for i, text in enumerate(notes, 1):
        print(f"[{i}] {text}")

    callgrind = None
    if a.callgrind and os.path.exists(a.callgrind):
        with open(a.callgrind) as f:
            callgrind = json.load(f)
        print()
        print("callgrind instruction counts (Ir, both sides in one thread; exact, machine-independent):")
        for k, v in callgrind.items():
            print(f"  {k}: {v:,}" if isinstance(v, int) else f"  {k}: {v}")

    out = dict(meta, figures=[{"key": k, "label": l, "better": b} for k, l, b, _ in FIGURES],
               rows=rows, ratios=ratios, notes=notes, callgrind=callgrind, table="\n".join(lines))
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
    print()
    print(f"JSON: {a.json}")


if __name__ == "__main__":
    main()
