"""A readable page of analysed documents: highlighted spans, a legend and counts, everything escaped."""

from __future__ import annotations

from jinja2 import Environment

from unmask.content.semeval import TECHNIQUES

COLOURS = dict(zip(TECHNIQUES, ("#fde68a", "#fca5a5", "#c4b5fd", "#a5f3fc", "#fdba74", "#bfdbfe", "#f9a8d4",
                                "#86efac", "#fecaca", "#fcd34d", "#d9f99d", "#ddd6fe", "#99f6e4", "#e9d5ff")))

PAGE = Environment(autoescape=True).from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>unmask: propaganda techniques</title>
<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:20px auto;color:#1d2430}
.doc{border:1px solid #dde3ea;border-radius:6px;padding:10px 16px;margin:14px 0}
.text{white-space:pre-wrap;line-height:1.6;unicode-bidi:plaintext}mark{border-radius:3px;padding:0 1px}
.tag{display:inline-block;border-radius:3px;padding:0 6px;margin:2px;font-size:13px}.muted{color:#5b6675;font-size:13px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #dde3ea;padding:3px 6px}</style></head><body>
<h1>Propaganda techniques</h1>
<p class="muted">Spans found by unmask's technique model (14 techniques of SemEval-2020 Task 11, trained on English
news). A highlight is a lead for a reader, not a verdict. Texts in other languages are not analysed.</p>
<p>{% for t, c in colours.items() %}<span class="tag" style="background:{{ c }}">{{ t }}</span>{% endfor %}</p>
{% for d in docs %}<div class="doc"><h2>{{ d.id }}</h2>
{% if not d.language_trained %}<p class="muted">{{ d.note }}</p>{% else %}
<p class="muted">{{ d.spans|length }} spans, {{ d.density }} per 1,000 characters.
{% for t, n in d.counts.items() %}<span class="tag" style="background:{{ colours[t] }}">{{ t }}: {{ n }}</span>{% endfor %}</p>{% endif %}
<div class="text">{% for seg in d.segments %}{% if seg.technique %}<mark style="background:{{ colours[seg.technique] }}" title="{{ seg.technique }} ({{ seg.confidence }})">{{ seg.text }}</mark>{% else %}{{ seg.text }}{% endif %}{% endfor %}</div>
</div>{% endfor %}</body></html>""")


def segments(text: str, spans: list[dict]) -> list[dict]:
    """The text cut at span boundaries (spans that overlap an earlier one are skipped)."""
    out, pos = [], 0
    for s in sorted(spans, key=lambda x: (x["start"], -x["end"])):
        if s["start"] < pos:
            continue
        if s["start"] > pos:
            out.append({"text": text[pos:s["start"]], "technique": None})
        out.append({"text": text[s["start"]:s["end"]], "technique": s["technique"], "confidence": s["confidence"]})
        pos = s["end"]
    if pos < len(text):
        out.append({"text": text[pos:], "technique": None})
    return out


def render(docs: list[dict], texts: dict[str, str]) -> str:
    rows = [dict(d, segments=segments(texts[d["id"]], d["spans"])) for d in docs]
    return PAGE.render(docs=rows, colours=COLOURS)
