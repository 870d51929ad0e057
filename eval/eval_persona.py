"""Persona targets on a simulated run folder (from eval_sim.py or unmask demo): python eval/eval_persona.py DIR."""
import sys, csv
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from unmask.store import Case
d=sys.argv[1]
c=Case(d+'/case.duckdb', read_only=True)
labels={r['account_id']:r for r in csv.DictReader(open(d+'/data/labels.csv'))}
pers={r['account_id']:r for r in c.engine.query("select p.*, (select count(*) from posts q where q.account_id=p.account_id) n from personas p").to_pylist()}
flags={r['account_id']:r for r in c.engine.query("select * from persona_flags").to_pylist()}
mid=c.engine.scalar("select epoch_ms(median(created_at)) from posts")
ok=tot=0
for a,p in pers.items():
    if p['n']>=50 and p['behaviour_utc_offset'] is not None and a in labels and labels[a]['role']!='benign_bot':
        tz=labels[a]['operator_tz']
        true=ZoneInfo(tz).utcoffset(datetime.fromtimestamp(mid/1000,timezone.utc).replace(tzinfo=None)).total_seconds()/3600
        tot+=1; ok+= abs(true-p['behaviour_utc_offset'])<=1
print('offset within 1h:', ok, tot, ok/max(tot,1))
tp=fp=fn=0; trav=0
for a,l in labels.items():
    f=flags.get(a,{}).get('persona_flag',False)
    op = l['label']!='organic' and l['role']=='operator'
    if op: 
        tp+=f; fn+= not f
    elif l['label']=='organic':
        fp+=f
    if l['role']=='traveller' and f: trav+=1
print('persona precision', tp/max(1,tp+fp), 'recall', tp/max(1,tp+fn), 'tp fp fn', tp, fp, fn, 'travellers flagged', trav)
