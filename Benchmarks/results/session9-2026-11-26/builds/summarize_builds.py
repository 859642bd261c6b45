import json,sys,glob,statistics,collections
out,threads=sys.argv[1],sys.argv[2]
rows=collections.defaultdict(lambda: collections.defaultdict(dict)); tools=set()
for f in glob.glob(f"{out}/*-{threads}-*.json"):
    base=f.split('/')[-1][:-5]; parts=base.rsplit('-',2); tool=parts[0]; r=int(parts[2])
    if tool!='pt': tools.add(tool)
    for c in json.load(open(f))['cases']: rows[c['name']][r][tool]=c['median_ms']
tools=sorted(tools)
for name,rr in rows.items():
    print(name)
    rat=collections.defaultdict(list)
    for r in sorted(rr):
        x=rr[r]
        if len(x)<len(tools)+1: continue
        print(f"  r{r} pt {x['pt']:.2f} "+' '.join(f"{t} {x[t]:.2f} ({x[t]/x['pt']:.3f})" for t in tools))
        for t in tools: rat[t].append(x[t]/x['pt'])
    print("  median ratio "+'; '.join(f"{t} {statistics.median(v):.3f} ahead {sum(a<1 for a in v)}/{len(v)}" for t,v in rat.items()))
