# summary.py [DIR]: medians of the rounds' JSON reports under DIR/old,
# DIR/before and DIR/after (those present; default: this directory), as the
# tables in docs/benchmarks.md "History pages while the archive lags" (and,
# with DIR ../2026-11-29-replies, "Replies").
import json, os, statistics as st, sys
base = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

def vals(label, pat, fn):
    out = []
    for i in (1, 2, 3, 4, 5):
        try:
            d = json.load(open(f'{base}/{label}/{pat}-{i}.json'))
        except FileNotFoundError:
            continue
        out.append(fn(d.get('result', d)))
    return out

def fmt(v):
    if isinstance(v, int) or (isinstance(v, float) and v >= 1000):
        return f'{int(round(v)):,}'
    return f'{round(v, 3)}'

def table(labels, rows):
    labels = [l for l in labels if os.path.isdir(f'{base}/{l}')]
    if len(labels) < 2:
        return
    lines = []
    for name, pat, fn in rows:
        cols = [vals(l, pat, fn) for l in labels]
        if not all(cols):
            continue
        meds = [st.median(c) for c in cols]
        cells = [f'{fmt(m)} [{", ".join(fmt(x) for x in c)}]' for m, c in zip(meds, cols)]
        ratio = f'{meds[-1] / meds[-2]:.2f}' if meds[-2] else '—'
        lines.append(f'| {name} | ' + ' | '.join(cells) + f' | {ratio} |')
    if lines:
        print('| measure | ' + ' | '.join(labels) + ' | ratio (last / previous) |')
        print('|---|' + '---|' * len(labels) + '---|')
        print('\n'.join(lines))
        print()

lat = lambda k: (lambda d: d['latency'][k])
table(['before', 'after'], [
    ('join p50, 1 client (ms)', 'join1', lat('p50_ms')),
    ('join p99, 1 client (ms)', 'join1', lat('p99_ms')),
    ('join p50, 10 clients (ms)', 'join10', lat('p50_ms')),
    ('join p99, 10 clients (ms)', 'join10', lat('p99_ms')),
    ('join p50, 1 client, 200 msg/s elsewhere (ms)', 'join1-load', lat('p50_ms')),
    ('join p99, 1 client, 200 msg/s elsewhere (ms)', 'join1-load', lat('p99_ms')),
    ('server cores during those joins', 'join1-load', lambda d: round(d['server_cores'], 2)),
])
table(['old', 'before', 'after'], [
    ('embedded ramp, highest sustained (deliveries/s)', 'eramp', lambda d: round(d['achieved_dps'])),
    ('p99 at that step (ms)', 'eramp', lat('p99_ms')),
    ('server cores at that step', 'eramp', lambda d: round(d['server_cores'], 2)),
    ('embedded at 100,000/s: p50 (ms)', 'e100k', lat('p50_ms')),
    ('embedded at 100,000/s: p99 (ms)', 'e100k', lat('p99_ms')),
    ('embedded at 100,000/s: server cores', 'e100k', lambda d: round(d['server_cores'], 2)),
])
