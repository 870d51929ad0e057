"""Render the self-contained HTML report: Jinja2 with autoescaping, data as escaped JSON,
the graph library inlined, no network access at view time."""

from __future__ import annotations

import datetime as _dt
from importlib import resources
from pathlib import Path

import jinja2

from unmask import __version__
from unmask.report import charts
from unmask.report.evidence import collect, safe_json

CAVEATS = [
    "Coordination is not guilt: activists, campaigns, fan groups and newsrooms coordinate openly. "
    "A candidate operation is a group whose joint behaviour is unlikely by chance and that shows signs "
    "of concealment (or whose data cannot show either way); groups that coordinate with no sign of "
    "concealment are listed separately, not flagged. Whether a group is inauthentic or state-backed "
    "needs evidence beyond this report.",
    "Significance is measured against a null model that keeps each account's volume and each object's "
    "popularity and burstiness. Real accounts are not exchangeable: communities that share interests "
    "will exceed the null more often than the stated false-discovery rate suggests.",
    "Accounts flagged by how they were registered (created with an operation's accounts and carrying "
    "its app, handle pattern or bio) took no coordinated action that the data shows; the platform's own "
    "registration records (IP addresses, phone numbers, emails) are what would confirm them.",
    "Times are UTC as the source gives them; archive times have minute resolution unless the post id "
    "carries milliseconds.",
    "Every number here comes from the data listed under Provenance; nothing was fetched from the network.",
]


def _env():
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("unmask.report", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["pct"] = lambda x: f"{(x or 0):.0%}"
    env.filters["num"] = lambda x: f"{x:,}" if isinstance(x, int) else (f"{x:.3g}" if isinstance(x, float) else x)
    return env


def _vendor(name: str) -> str:
    text = resources.files("unmask.report").joinpath("vendor", name).read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")


def render(case, generated_at: str | None = None) -> str:
    data = collect(case)
    for op in data["operations"] + data["open_groups"]:
        op["heatmap_svg"] = charts.heatmap(op["hours"], "posts by UTC hour and weekday")
        op["local_heatmap_svg"] = (charts.heatmap(op["local_hours"], f"posts by hour and weekday in {op['zone']} "
                                                  "(the group's inferred operator zone)") if op["zone"] else "")
        op["timeline_svg"] = charts.timeline(op["days"], "posts per day")
    graphs = {str(op["op"]["cluster"]): op["graph"] for op in data["operations"] + data["open_groups"]}
    stamp = generated_at or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return _env().get_template("report.html.j2").render(
        data=data, caveats=CAVEATS, version=__version__, generated_at=stamp,
        graphs_json=safe_json(graphs), cytoscape_js=_vendor("cytoscape.min.js"),
    )


def write_report(case, path, generated_at: str | None = None) -> Path:
    """Write the report for ``case`` to ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(case, generated_at), encoding="utf-8")
    return path
