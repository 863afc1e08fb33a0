#!/usr/bin/env python3
"""bigroom.py DIR: medians (runs in brackets) of the reports bigroom.sh wrote
to DIR, and per distributed run how many messages NATS handed each
chat-server's channel consumer against the messages sent."""
import glob
import json
import os
import re
import statistics
import sys

from summary import fmt

ROWS = {
    'fixed-*.json': [
        ('embedded, 50 msg/s into 10,000: deliveries/s', lambda r: r['result']['achieved_dps']),
        ('… p50 (ms)', lambda r: r['result']['latency']['p50_ms']),
        ('… p99 (ms)', lambda r: r['result']['latency']['p99_ms']),
        ('… lost', lambda r: r['lost']),
        ('… refused', lambda r: r['refused']),
        ('… connections closed', lambda r: r['dropped_connections']),
        ('… server cores', lambda r: r['result']['server_cores']),
        ('… load generator cores', lambda r: r['result']['bench_cores']),
    ],
    'ramp-*.json': [
        ('embedded ramp: highest sustained msg/s', lambda r: r['result']['rate_msgs']),
        ('… deliveries/s', lambda r: r['result']['achieved_dps']),
        ('… its p99 (ms)', lambda r: r['result']['latency']['p99_ms']),
    ],
    'dist-[0-9].json': [
        ('3 servers, 3 NATS nodes, 20 msg/s: deliveries/s', lambda r: r['result']['achieved_dps']),
        ('… p50 (ms)', lambda r: r['result']['latency']['p50_ms']),
        ('… p99 (ms)', lambda r: r['result']['latency']['p99_ms']),
        ('… sent', lambda r: r['sent']),
        ('… lost', lambda r: r['lost']),
        ('… connections closed', lambda r: r['dropped_connections']),
        ('… server cores (3 servers)', lambda r: r['result']['server_cores']),
    ],
}


def number(f):
    return int(re.findall(r'-(\d+)\.json$', f)[0])


def consumers(d, i):
    """Per chat-server: the most messages one non-wildcard _INBOX
    subscription of it received (its channel consumer's deliveries)."""
    out = []
    for f in sorted(glob.glob(os.path.join(d, f'dist-{i}-node*.json'))):
        for c in json.load(open(f))['connections']:
            if c.get('name') != 'chat-server':
                continue
            subs = c.get('subscriptions_list_detail') or []
            inbox = [s['msgs'] for s in subs
                     if s['subject'].startswith('_INBOX.') and not s['subject'].endswith('*')]
            out.append(max(inbox, default=0))
    return out


def main():
    d = sys.argv[1]
    print('| | median [runs] |')
    print('|---|---|')
    for pattern, metrics in ROWS.items():
        files = sorted(glob.glob(os.path.join(d, pattern)), key=number)
        reports = [json.load(open(f)) for f in files]
        for name, metric in metrics:
            vals = [metric(r) for r in reports if r.get('result')]
            if vals:
                runs = ', '.join(fmt(v) for v in vals)
                print(f'| {name} | {fmt(statistics.median(vals))} [{runs}] |')
    for f in sorted(glob.glob(os.path.join(d, 'dist-[0-9].json')), key=number):
        i = number(f)
        r = json.load(open(f))
        print(f'\nrun {i}: {r["sent"]} sent, {r["acked"]} acknowledged (stored); '
              f'each server\'s consumer was handed {consumers(d, i)}')


if __name__ == '__main__':
    main()
