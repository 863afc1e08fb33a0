#!/usr/bin/env python3
"""summary.py DIR: medians (runs in brackets) of the reports storm.sh and
cores.sh wrote to DIR, per build, with the ratio after/before."""
import glob
import json
import os
import re
import statistics
import sys

ROWS = {
    'storm-{b}-r1-*.json': [
        ('10,000 join 1 room: seconds until all joined', lambda r: r['storm_secs']),
        ('… server CPU-s', lambda r: r['server_cpu_secs']),
        ('… join p99 (ms)', lambda r: r['join_ms']['p99_ms']),
        ('… connections closed', lambda r: r['closed']),
        ('… presence frames received', lambda r: r['presence_frames']),
        ('… presence MB received', lambda r: r['presence_bytes'] / 1e6),
    ],
    'storm-{b}-r100-*.json': [
        ('10,000 join 100 rooms of 100: seconds until all joined', lambda r: r['storm_secs']),
        ('… server CPU-s', lambda r: r['server_cpu_secs']),
        ('… connections closed', lambda r: r['closed']),
    ],
    'ramp1-{b}-*.json': [
        ('server on 1 core: highest sustained deliveries/s', lambda r: r['result']['achieved_dps']),
        ('… its p99 (ms)', lambda r: r['result']['latency']['p99_ms']),
        ('… server cores used', lambda r: r['result']['server_cores']),
    ],
    'ramp2-{b}-*.json': [
        ('server on 2 cores: highest sustained deliveries/s', lambda r: r['result']['achieved_dps']),
        ('… server cores used', lambda r: r['result']['server_cores']),
    ],
    'overload-{b}-*.json': [
        ('offered 2x the 1-core maximum: connections closed', lambda r: r['dropped_connections']),
        ('… sends refused', lambda r: r['refused']),
        ('… deliveries/s', lambda r: r['result']['achieved_dps']),
        ('… p99 of accepted (ms)', lambda r: r['result']['latency']['p99_ms']),
        ('… lost', lambda r: r['lost']),
    ],
    'idle-{b}-*.json': [
        ('10,000 idle in 100 rooms: KiB per connection', lambda r: r['rss_per_connection_kib']),
        ('… server CPU-s per 20 s idle', lambda r: r['idle_server_cpu_secs'] / r['idle_secs'] * 20),
        ('… joined', lambda r: r['joined']),
    ],
}


def runs(d, pattern, build, metric):
    files = sorted(glob.glob(os.path.join(d, pattern.format(b=build))),
                   key=lambda f: int(re.findall(r'(\d+)\.json$', f)[0]))
    out = []
    for f in files:
        try:
            out.append(metric(json.load(open(f))))
        except (KeyError, TypeError, ValueError):
            pass
    return out


def fmt(v):
    if v >= 1000:
        return f'{v:,.0f}'
    if v >= 10:
        return f'{v:.1f}'
    return f'{v:.3g}'


def main():
    d = sys.argv[1]
    print('| | before | after | after/before |')
    print('|---|---|---|---|')
    for pattern, metrics in ROWS.items():
        for name, metric in metrics:
            cells, meds = [], []
            for b in ('before', 'after'):
                vals = runs(d, pattern, b, metric)
                if not vals:
                    cells.append('—')
                    meds.append(None)
                    continue
                med = statistics.median(vals)
                meds.append(med)
                cells.append(f'{fmt(med)} [{", ".join(fmt(v) for v in vals)}]')
            ratio = f'{meds[1] / meds[0]:.2f}' if all(meds) and meds[0] else '—'
            print(f'| {name} | {cells[0]} | {cells[1]} | {ratio} |')


if __name__ == '__main__':
    main()
