# summary.py [DIR]: medians of the rounds' JSON reports under DIR/before and
# DIR/after (default: this directory), as the table in docs/benchmarks.md.
import json,glob,os,statistics as st,sys
base=sys.argv[1] if len(sys.argv)>1 else os.path.dirname(os.path.abspath(__file__))
def vals(label,pat,fn):
    out=[]
    for i in (1,2,3,4,5):
        try: d=json.load(open(f'{base}/{label}/{pat}-{i}.json'))
        except FileNotFoundError: continue
        out.append(fn(d))
    return out
rows=[
 ('cross-server p50 at 10,000/s (ms)','cross',lambda d:d['result']['cross']['p50_ms']),
 ('cross-server p99 at 10,000/s (ms)','cross',lambda d:d['result']['cross']['p99_ms']),
 ('all-delivery p99 in that run (ms)','cross',lambda d:d['result']['latency']['p99_ms']),
 ('server cores (both servers) at 10,000/s','cross',lambda d:round(d['result']['server_cores'],2)),
 ('distributed ramp, highest sustained (deliveries/s)','ramp',lambda d:round(d['result']['achieved_dps'])),
 ('p99 at that step (ms)','ramp',lambda d:d['result']['latency']['p99_ms']),
 ('server cores at that step','ramp',lambda d:round(d['result']['server_cores'],2)),
 ('embedded ramp, highest sustained (deliveries/s)','eramp',lambda d:round(d['result']['achieved_dps'])),
 ('p99 at that step (ms)','eramp',lambda d:d['result']['latency']['p99_ms']),
 ('embedded at 100,000/s: p50 (ms)','e100k',lambda d:d['result']['latency']['p50_ms']),
 ('embedded at 100,000/s: p99 (ms)','e100k',lambda d:d['result']['latency']['p99_ms']),
 ('embedded at 100,000/s: server cores','e100k',lambda d:round(d['result']['server_cores'],2)),
]
def fmt(v):
    if isinstance(v,float) and v>=1000 or isinstance(v,int): return f'{int(round(v)):,}'
    return f'{v}'
print('| measure | before (`454cdf8`) | after (stream order) | ratio |')
print('|---|---|---|---|')
for name,pat,fn in rows:
    b=vals('before',pat,fn); a=vals('after',pat,fn)
    if not b or not a: continue
    mb,ma=st.median(b),st.median(a)
    ratio=f'{ma/mb:.2f}' if mb else '—'
    print(f'| {name} | {fmt(mb)} [{", ".join(fmt(x) for x in b)}] | {fmt(ma)} [{", ".join(fmt(x) for x in a)}] | {ratio} |')
lost=[]
for label in ('before','after'):
    for f in glob.glob(f'{base}/{label}/*.json'):
        d=json.load(open(f)); lost.append((label,f.split('/')[-1],d.get('lost'),d.get('duplicated')))
print('lost/dup nonzero:',[x for x in lost if (x[2] or 0) or (x[3] or 0)])
