# summary.py [DIR]: medians of the search rounds (embedded-N.json,
# distributed-N.json) under DIR (default: this directory), as the table in
# docs/benchmarks.md "Search".
import json, os, statistics as st, sys
base = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

def runs(mode):
    out = []
    for i in (1, 2, 3, 4, 5):
        try:
            d = json.load(open(f'{base}/{mode}-{i}.json'))
        except FileNotFoundError:
            continue
        out.append(d.get('result', d))
    return out

def cell(values):
    return f'{round(st.median(values), 3)} [{", ".join(str(round(v, 3)) for v in values)}]'

modes = {m: runs(m) for m in ('embedded', 'distributed')}
print('| query | embedded p50 (ms) | embedded p99 (ms) | distributed p50 (ms) | distributed p99 (ms) |')
print('|---|---|---|---|---|')
kinds = [k for k, _ in modes['embedded'][0]['by_kind']]
for row in ['all queries'] + kinds:
    cells = []
    for m in ('embedded', 'distributed'):
        pick = (lambda r: r['latency']) if row == 'all queries' else (lambda r: dict(r['by_kind'])[row])
        cells += [cell([pick(r)['p50_ms'] for r in modes[m]]), cell([pick(r)['p99_ms'] for r in modes[m]])]
    print(f'| {row} | ' + ' | '.join(cells) + ' |')
for m in ('embedded', 'distributed'):
    r = modes[m]
    print(f'{m}: filled {r[0]["filled"]:,} in {cell([x["fill_secs"] for x in r])} s; '
          f'fewest results {min(x["min_results"] for x in r)}; server cores {cell([x["server_cores"] for x in r])}')
