"""The command line: parse, call one library function, print. Errors become clear messages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from unmask import __version__
from unmask.errors import UnmaskError

err = Console(stderr=True)
out = Console()


def _pairs(values, what, cast=str):
    """``K=V`` options to a dict, with a clear error for a malformed one."""
    result = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"{what} takes KEY=VALUE, got {v!r}")
        k, val = v.split("=", 1)
        result[k.strip()] = cast(val.strip())
    return result


def _seconds(v: str) -> float:
    v = v.strip().lower()
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    for u in ("ms", "s", "m", "h", "d"):
        if v.endswith(u) and v[: -len(u)].replace(".", "", 1).isdigit():
            return float(v[: -len(u)]) * units[u]
    return float(v)


class _Stage:
    """The progress display of long steps: a bar with a percentage and rows per second wherever the
    library gives totals (ingest, detect), a spinner with the stage's name elsewhere; silent with
    --quiet. The bar follows the running statement too (the engine's own estimate)."""

    def __init__(self, quiet):
        self.quiet = quiet

    def __enter__(self):
        from unmask.progress import Reporter

        if self.quiet:
            return lambda *a, **k: None
        import threading

        from rich.progress import BarColumn, TaskProgressColumn

        stage = self

        class _Bar(Reporter):
            def __call__(self, note):
                stage.p.update(stage.task, description=str(getattr(note, "file", note)))

            def start(self, label, total_units, total_rows, engine=None):
                super().start(label, total_units, total_rows, engine)
                stage.p.update(stage.task, description=label, total=100, completed=0)

            def advance(self, rows=0, note=None):
                super().advance(rows, note)
                if note is not None:
                    stage.p.update(stage.task, description=f"{self.label}: {_name(note)}")

        self.reporter = _Bar()
        self.p = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                          TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=err, transient=True)
        self.p.__enter__()
        self.task = self.p.add_task("working", total=None, rate="")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self.reporter

    def _poll(self):
        while not self.stop.wait(0.25):
            r = self.reporter
            if r.total_units and r.label:
                rate = r.rows_per_second()
                self.p.update(self.task, completed=100 * r.fraction(),
                              rate=f"{rate:,.0f} rows/s" if r.total_rows else "")

    def __exit__(self, *exc):
        if not self.quiet:
            self.stop.set()
            self.thread.join()
            self.p.__exit__(*exc)


def _name(note) -> str:
    if isinstance(note, (list, tuple)):
        return ", ".join(_name(n) for n in note)
    return str(getattr(note, "file", note))


def main(argv=None):
    """The CLI's one boundary: library errors become one ``error:`` line and an exit status, never a
    traceback (set UNMASK_DEBUG=1 to see one for an unexpected error)."""
    import os

    try:
        cli(args=argv, standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted: the case is as its last finished step left it (unmask run --resume continues)",
                   err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UnmaskError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (OSError, MemoryError) as exc:
        _spark_failure(exc)
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # the last resort: an unexpected error is reported in one line
        if os.environ.get("UNMASK_DEBUG"):
            raise
        _spark_failure(exc)
        click.echo(f"error: unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
                   "(this is a bug in unmask; rerun with UNMASK_DEBUG=1 and report the traceback)", err=True)
        sys.exit(1)


def _spark_failure(exc) -> None:
    """Spark's JVM failed, or stopped (a driver out of heap exits): one line with the way out, and
    exit status 1. Py4J raises its own errors, or a refused connection once the JVM is gone."""
    import traceback

    tb = traceback.extract_tb(exc.__traceback__)
    if type(exc).__module__.startswith("py4j") or any("/py4j/" in f.filename.replace("\\", "/") for f in tb):
        click.echo(f"error: Spark failed ({type(exc).__name__}); if its log above shows "
                   "java.lang.OutOfMemoryError, give the driver more heap (docs/scale.md, 'Driver heap')", err=True)
        sys.exit(1)


def _json(obj) -> str:
    """Strict JSON: NaN and infinities (undefined metrics) are written as null."""
    import math

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x
    return json.dumps(clean(obj), sort_keys=True, default=str, allow_nan=False)


def _engine_options(f):
    """--engine, --spark-master and --inputs-at, shared by detect and run."""
    f = click.option("--inputs-at", help="with --engine spark: a folder or URI (s3a://…, hdfs://…) holding the "
                                         "case's input tables as the Parquet layout writes them (posts/, "
                                         "post_links/); Spark reads them there")(f)
    f = click.option("--spark-master", help="with --engine spark: the cluster (spark://…, yarn, k8s://…); "
                                            "default: SPARK_REMOTE (Spark Connect) if set, else local[*]")(f)
    return click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb")(f)


_LAYOUT = click.option("--layout", type=click.Choice(["duckdb", "parquet"]), default=None,
                       help="a new case's layout: one DuckDB file (default), or a folder with the input "
                            "tables as Parquet datasets partitioned by post kind, which Spark reads where they lie")


@click.group()
@click.version_option(__version__, prog_name="unmask")
def cli():
    """unmask: find coordinated, covert influence operations in data you already hold."""


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("--case", "case_path", required=True, type=click.Path(),
              help="the case: a DuckDB file, or a folder in the Parquet layout; created if missing")
@_LAYOUT
@click.option("--format", "fmt", type=click.Choice(["io-archive", "twarc2", "csv", "jsonl", "parquet"]),
              help="override format sniffing")
@click.option("--map", "maps", multiple=True, help="canonical=column, e.g. --map account_id=author")
@click.option("--const", "consts", multiple=True, help="canonical=value for every row, e.g. --const kind=retweet")
@click.option("--mapping", type=click.Path(exists=True), help="TOML file with [map] and [const] tables")
@click.option("--time-mode", type=click.Choice(["auto", "iso", "epoch_s", "epoch_ms", "excel"]), default="auto",
              help="how to read times; excel serial days only when asked, as they are ambiguous")
@click.option("--list-delimiter", help="delimiter of list fields given as plain strings (default: spaces, commas or |)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--quiet", is_flag=True, help="no progress display")
def ingest(inputs, case_path, layout, fmt, maps, consts, mapping, time_mode, list_delimiter, as_json, quiet):
    """Append INPUT files to a case, with exact row accounting."""
    from unmask.ingest import ingest as do_ingest
    from unmask.store import Case

    m, c = _mapping(maps, consts, mapping)
    with Case(case_path, layout=layout) as case, _Stage(quiet) as step:
        results = do_ingest(case, inputs, fmt=fmt, mapping=m, const=c, time_mode=time_mode,
                            delimiter=list_delimiter, progress=step)
    total = {k: sum(getattr(r, k) for r in results) for k in ("rows_read", "rows_loaded", "rows_rejected")}
    rejects = [x for r in results for x in r.rejects][:20]
    if as_json:
        click.echo(_json({**total, "rejects": rejects, "case": str(case_path),
                          "files": [r.as_dict() for r in results]}))
    else:
        _print_ingest([r.as_dict() for r in results])
    if total["rows_rejected"]:
        err.print(f"[yellow]warning:[/] {total['rows_rejected']:,} rows rejected; see the case's rejects table")


def _print_ingest(results: list) -> None:
    """Each file's row accounting (and the mapping used, with its notes, on stderr); the first rejects."""
    for r in results:
        if r.get("mapping"):
            err.print(f"mapping used for {r['file']}: {json.dumps(r['mapping'].get('columns', r['mapping']))}")
            for note in r["mapping"].get("notes", []):
                err.print(f"[yellow]note:[/] {note}")
        repeats = (f" ({r['rows_duplicate']:,} repeat a post id already in the case or the file: kept once)"
                   if r["rows_duplicate"] else "")
        out.print(f"{r['file']}: read {r['rows_read']:,}, loaded {r['rows_loaded']:,}{repeats}, "
                  f"rejected {r['rows_rejected']:,}", highlight=False)
    for x in [x for r in results for x in r["rejects"]][:20]:
        out.print(f"  rejected {x['file']} row {x['row']} column {x['column']}: {x['reason']}", highlight=False)


def _print_findings(ana: dict, alpha: float) -> None:
    """The analysis in one paragraph: links, candidate operations (and how many of their networks the
    data let unmask assess for concealment), open groups, weak groups and registered accounts."""
    unassessed = ana.get("unassessed_networks", 0)
    caveat = (f"; {unassessed} of them could not be assessed for concealment, the data having too little about "
              "their accounts" if unassessed else "")
    out.print(f"{ana['significant_links']:,} significant links (FDR {alpha}, ~{ana['expected_false_links']:.1f} "
              f"expected false); {ana['candidate_operations']} candidate operations (coordinated and covert{caveat}), "
              f"{ana.get('open_networks', 0)} coordinated groups with no sign of concealment, "
              f"{ana.get('weak_groups', 0)} weak groups (listed, not flagged); "
              f"{ana.get('registered_accounts', 0) + ana.get('registration_group_accounts', 0)} accounts flagged by "
              "how they were registered", highlight=False)


def _mapping(maps, consts, mapping_file):
    m, c = {}, {}
    if mapping_file:
        import tomllib

        with open(mapping_file, "rb") as fh:
            data = tomllib.load(fh)
        m.update(data.get("map", {}))
        c.update(data.get("const", {}))
    m.update(_pairs(maps, "--map"))
    c.update(_pairs(consts, "--const"))
    return m or None, c or None


def _knob_value(v: str):
    """A --set value: JSON where it parses (numbers, lists, true/false), else the text itself (a date,
    a zone name)."""
    try:
        return json.loads(v)
    except ValueError:
        return v


@cli.command()
@click.option("--posts", type=int, default=None, help="total posts")
@click.option("--seed", type=int, default=None, help="random seed")
@click.option("--out", "out_dir", type=click.Path(), help="folder to write")
@click.option("--config", type=click.Path(exists=True), help="TOML file of knobs (see README)")
@click.option("--format", "fmt", type=click.Choice(["io-archive", "twarc2", "csv"]), default="io-archive")
@click.option("--set", "sets", multiple=True, help="any knob as name=value, e.g. --set operations=3")
@click.option("--describe", is_flag=True, help="print summary statistics as JSON")
def simulate(posts, seed, out_dir, config, fmt, sets, describe):
    """Write a labelled dataset of organic activity and planted operations."""
    from unmask.simulate import SimConfig, simulate as run_sim
    from unmask.simulate.writers import describe as describe_data, write

    knobs = {k: _knob_value(v) for k, v in _pairs(sets, "--set").items()}
    knobs.update({k: v for k, v in (("posts", posts), ("seed", seed)) if v is not None})
    cfg = SimConfig.from_toml(config, **knobs) if config else SimConfig.from_knobs(knobs, "--set")
    data = run_sim(cfg)
    if out_dir:
        files, labels = write(data, out_dir, fmt)
        err.print(f"wrote {', '.join(str(f) for f in files)} and {labels}")
    if describe or not out_dir:
        click.echo(json.dumps(describe_data(data), indent=2))


@cli.command()
@click.option("--case", "case_path", required=True, type=click.Path(exists=True))
@click.option("--traces", help="comma-separated traces (default: all)")
@click.option("--window", "windows", multiple=True, help="trace=seconds, e.g. co_retweet=60s")
@click.option("--min-weight", "min_weights", multiple=True, help="trace=N")
@_engine_options
@click.option("--max-neighbors", type=int, default=100, help="cap on pairs per action on hot objects")
@click.option("--null-worlds", type=click.IntRange(0, 1000), default=10, show_default=True,
              help="week-shifted worlds of the rhythm null (text, hashtag, domain, mention and timing traces)")
@click.option("--group-worlds", type=click.IntRange(0, 1000), default=19, show_default=True,
              help="null worlds for the group test's selection p-value (resolution 1/(1+N))")
@click.option("--alpha", type=float, default=0.05, help="false-discovery rate for links")
@click.option("--resolution", type=float, default=1.0, help="Leiden resolution")
@click.option("--seed", type=int, default=0)
@click.option("--min-cluster", type=int, default=3, help="accounts needed for a candidate operation")
@click.option("--reset", is_flag=True, help="forget traces detected earlier and not named in --traces")
@click.option("--evidence-p", type=click.FloatRange(0, 1), default=None,
              help="sample evidence for the edges with a p-value at most this (1: every edge; default: "
                   "unmask.api.EVIDENCE_P)")
@click.option("--content", "with_content", is_flag=True,
              help="also find propaganda techniques in the posts and profile them per network, cell and account")
@click.option("--quiet", is_flag=True)
def detect(case_path, traces, windows, min_weights, engine, spark_master, inputs_at, max_neighbors, null_worlds,
           group_worlds, alpha, resolution, seed, min_cluster, reset, evidence_p, with_content, quiet):
    """Compute coordination traces, their significance, and candidate operations.

    Recomputes only the traces named (all by default); traces detected earlier keep their edges and
    are fused with them (--reset forgets them). Per-case tables (behavioural zones, state-media
    shares) are reused until new posts arrive."""
    from unmask import api
    from unmask.store import Case

    with Case(case_path) as case, _Stage(quiet) as stage:
        with api.step(case, "detect"):
            det = api.detect(case, traces=traces.split(",") if traces else None,
                             windows=_pairs(windows, "--window", _seconds),
                             min_weights=_pairs(min_weights, "--min-weight", int),
                             engine=engine, max_neighbors=max_neighbors, shuffles=null_worlds, seed=seed,
                             progress=stage, keep=not reset, spark_master=spark_master, inputs_at=inputs_at,
                             evidence_p=api.EVIDENCE_P if evidence_p is None else evidence_p)
        with api.step(case, "analyse"):
            ana = api.analyse(case, alpha=alpha, resolution=resolution, seed=seed, min_cluster=min_cluster,
                              group_worlds=group_worlds)
        with api.step(case, "checks"):
            api.run_checks(case)
        ana = case.get_meta("analyse")  # with the checks' verdicts: flagged (covert) and open networks
        if with_content:
            with case.transaction():
                info = api.content(case, alpha=alpha, progress=stage)
    if det.get("recomputed_stale"):
        out.print(f"recomputed {', '.join(det['recomputed_stale'])}: detected before the newest posts were "
                  "ingested", highlight=False)
    for name, s in det["stats"].items():
        when = "kept from an earlier detect" if name in det["kept"] else f"{det['seconds'][name]} s"
        out.print(f"{name}: {s['candidate_pairs']:,} co-acting pairs, {when}", highlight=False)
    _print_findings(ana, alpha)
    if with_content:
        out.print(f"content: {info.get('analysed', 'all')} posts analysed for techniques; "
                  f"{info['significant_group_techniques']} group-technique shares above the organic accounts'",
                  highlight=False)


@cli.command()
@click.option("--case", "case_path", required=True, type=click.Path(exists=True))
@click.option("--trace", required=True)
@click.option("--top", type=int, default=20)
def edges(case_path, trace, top):
    """Show a trace's strongest edges with their evidence."""
    from unmask.store import Case

    with Case(case_path, read_only=True) as case:
        if not case.has_table("edges"):
            raise UnmaskError(f"{case_path} has no edges yet: run 'unmask detect --case {case_path}' first")
        rows = case.engine.query("""SELECT * FROM edges WHERE trace = ? ORDER BY p_value, weight DESC, account_a,
                                    account_b LIMIT ?""", [trace, top]).to_pylist()
        table = Table("account_a", "account_b", "weight", "expected", "p", "q", "evidence (object, Δt)")
        for r in rows:
            ev = case.engine.query("""SELECT object, dt_ms FROM edge_evidence WHERE account_a = ? AND account_b = ?
                                      AND trace = ? ORDER BY abs(dt_ms), object, post_a, post_b LIMIT 3""", [r["account_a"], r["account_b"], trace]).to_pylist()
            table.add_row(r["account_a"], r["account_b"], str(r["weight"]), f"{r['expected']:.3g}",
                          f"{r['p_value']:.2g}", f"{r['q_value']:.2g}",
                          "; ".join(f"{e['object'][:40]} ({e['dt_ms'] / 1000:.1f}s)" for e in ev))
    out.print(table)


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--out", "out_dir", required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["io-archive", "twarc2", "csv", "jsonl", "parquet"]))
@click.option("--map", "maps", multiple=True)
@click.option("--const", "consts", multiple=True)
@_LAYOUT
@_engine_options
@click.option("--alpha", type=float, default=0.05)
@click.option("--seed", type=int, default=0)
@click.option("--null-worlds", type=click.IntRange(0, 1000), default=10, show_default=True,
              help="week-shifted worlds of the rhythm null (text, hashtag, domain, mention and timing traces)")
@click.option("--group-worlds", type=click.IntRange(0, 1000), default=19, show_default=True,
              help="null worlds for the group test's selection p-value (resolution 1/(1+N))")
@click.option("--time-mode", type=click.Choice(["auto", "iso", "epoch_s", "epoch_ms", "excel"]), default="auto")
@click.option("--overwrite", is_flag=True, help="replace a case already in OUT")
@click.option("--resume", is_flag=True, help="continue the case in OUT from its last finished step")
@click.option("--content", "with_content", is_flag=True, help="also profile propaganda techniques (see detect)")
@click.option("--evidence-p", type=click.FloatRange(0, 1), default=None,
              help="sample evidence for the edges with a p-value at most this (1: every edge; default: "
                   "unmask.api.EVIDENCE_P)")
@click.option("--quiet", is_flag=True)
def run(inputs, out_dir, fmt, maps, consts, layout, engine, spark_master, inputs_at, alpha, seed, null_worlds,
        group_worlds, time_mode, overwrite, resume, with_content, evidence_p, quiet):
    """Ingest, detect, test significance, cluster, check and report, into OUT."""
    from unmask import api

    m, c = _mapping(maps, consts, None)
    with _Stage(quiet) as step:
        result = api.run(inputs, out_dir, fmt=fmt, mapping=m, const=c, engine=engine, alpha=alpha, seed=seed,
                         null_worlds=null_worlds, group_worlds=group_worlds, progress=step, overwrite=overwrite,
                         resume=resume, time_mode=time_mode, with_content=with_content, layout=layout,
                         spark_master=spark_master, inputs_at=inputs_at,
                         evidence_p=api.EVIDENCE_P if evidence_p is None else evidence_p)
    if result.get("resumed_after"):
        out.print(f"resumed after {result['resumed_after']}", highlight=False)
    _print_ingest(result.get("ingest", []))
    if result.get("analyse"):
        _print_findings(result["analyse"], alpha)
    out.print(f"case: {result['case']}\nreport: {result.get('report')}", highlight=False)
    rejected = sum(r["rows_rejected"] for r in result.get("ingest", []))
    if rejected:
        err.print(f"[yellow]warning:[/] {rejected:,} rows rejected; see the case's rejects table and the report")


def _registration_line(analyse: dict) -> str:
    """One line on the accounts found by how they were registered (no coordinated action seen)."""
    return (f"{analyse.get('registered_accounts', 0)} accounts with no coordinated action (dormant) registered with "
            f"a network, {analyse.get('registration_groups', 0)} registration groups "
            f"({analyse.get('registration_group_accounts', 0)} accounts: an expert and its boosters, who retweet "
            "like an audience) flagged by how their accounts were signed up (docs/methods.md, Registration).\n")


def _open_line(analyse: dict, camp: dict) -> str:
    """One line on the coordinated groups that hide nothing (listed as open, not flagged)."""
    line = f"{analyse.get('open_networks', 0)} coordinated groups show no sign of concealment (listed as open)"
    if camp.get("accounts"):
        line += (f"; of the {camp['accounts']} open-campaign accounts (fan army, tweetstorm, volunteers), "
                 f"{camp['coordinated_not_flagged']} are listed as open and {camp['flagged']} flagged")
    return line + ".\n"


@cli.command()
@click.option("--out", "out_dir", default="unmask-demo", type=click.Path(), show_default=True)
@click.option("--posts", type=int, default=40000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--quiet", is_flag=True)
def demo(out_dir, posts, seed, quiet):
    """Simulate a labelled world with planted operations, analyse it, and write a report."""
    from unmask import api

    with _Stage(quiet) as step:
        result = api.demo(out_dir, posts=posts, seed=seed, progress=step)
    ev = result["evaluation"]
    out.print(f"Simulated {posts:,} posts with planted operations in {Path(out_dir) / 'data'}.\n"
              f"Found {result['analyse']['candidate_operations']} candidate operations: precision "
              f"{ev['precision']:.2f}, recall {ev['recall']:.2f}, organic false-positive rate "
              f"{ev['organic_fpr']:.3f} against the simulator's labels.\n"
              + "".join(f"  {op}: {share:.0%} of its accounts flagged\n" for op, share in ev["per_operation"].items())
              + _registration_line(result["analyse"])
              + _open_line(result["analyse"], ev.get("open_campaigns", {}))
              + f"Report: {result.get('report')}", highlight=False)


@cli.command()
@click.option("--case", "case_path", required=True, type=click.Path(exists=True))
@click.option("--labels", required=True, type=click.Path(exists=True))
@click.option("--min-posts", type=int, default=0, help="only accounts with at least this many posts")
@click.option("--json", "as_json", is_flag=True)
def evaluate(case_path, labels, min_posts, as_json):
    """Score the case's candidate operations against labels (account_id,label; 'organic' = negative)."""
    from unmask.evaluate import evaluate as do_eval
    from unmask.store import Case

    with Case(case_path, read_only=True) as case:
        res = do_eval(case, labels, min_posts=min_posts)
    if as_json:
        click.echo(_json(res))
    else:
        for k, v in res.items():
            out.print(f"{k}: {v}", highlight=False)


@cli.command()
@click.option("--case", "case_path", required=True, type=click.Path(exists=True))
@click.option("--out", "out_path", required=True, type=click.Path())
def report(case_path, out_path):
    """Write the self-contained HTML report of a case."""
    from unmask.report.html import write_report
    from unmask.store import Case

    with Case(case_path, read_only=True) as case:
        out.print(str(write_report(case, out_path)))


@cli.command()
@click.option("--case", "case_path", required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", required=True, type=click.Choice(["gexf", "graphml", "csv", "parquet", "io-archive"]))
@click.option("--out", "out_path", required=True, type=click.Path(),
              help="a file for gexf/graphml, a folder for csv, parquet and io-archive")
def export(case_path, fmt, out_path):
    """Export the network, tables, or the flagged accounts in the platform-archive format."""
    from unmask.export import export as do_export
    from unmask.store import Case

    with Case(case_path, read_only=True) as case:
        for path in do_export(case, fmt, out_path):
            out.print(str(path), highlight=False)


@cli.group()
def text():
    """Propaganda techniques in articles, transcripts and posts (SemEval-2020 Task 11's 14 techniques)."""


@text.command("analyze")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_path", type=click.Path(), help="write the JSON here (default: print it)")
@click.option("--html", "html_path", type=click.Path(), help="also write a readable page with highlighted spans")
@click.option("--fast", is_flag=True, help="the linear model only (hashed n-grams and cues): no transformer, many times faster, less accurate")
def text_analyze(paths, out_path, html_path, fast):
    """Spans, flagged sentences, counts and density for .txt files, JSONL of {id, text}, or folders."""
    from unmask.content import analyze, read_documents

    docs = read_documents(paths)
    results = [analyze(t, i, fast=fast) for i, t in docs]
    payload = _json(results)
    if out_path:
        Path(out_path).write_text(payload, encoding="utf-8")
        out.print(str(out_path), highlight=False)
    else:
        click.echo(payload)
    if html_path:
        from unmask.content.html import render

        Path(html_path).write_text(render(results, dict(docs)), encoding="utf-8")
        out.print(str(html_path), highlight=False)


@text.command("predict")
@click.option("--task", type=click.Choice(["si", "tc"]), required=True)
@click.option("--articles", required=True, type=click.Path(), help="a folder of article<ID>.txt files")
@click.option("--template", type=click.Path(), help="TC: the spans to label (article, technique, start, end)")
@click.option("--out", "out_path", required=True, type=click.Path())
@click.option("--fast", is_flag=True, help="the linear model only (hashed n-grams and cues): no transformer, many times faster, less accurate")
def text_predict(task, articles, template, out_path, fast):
    """Write SemEval-2020 Task 11 predictions (SI: article start end; TC: article technique start end)."""
    from unmask.content import predict
    from unmask.content.semeval import read_articles, read_labels, write_labels

    rows = predict(task, read_articles(articles), read_labels(template, "tc") if template else None, fast=fast)
    out.print(f"{len(rows):,} {task.upper()} rows: {write_labels(rows, out_path)}", highlight=False)


@text.command("evaluate")
@click.option("--task", type=click.Choice(["si", "tc"]), required=True)
@click.option("--pred", required=True, type=click.Path(exists=True))
@click.option("--gold", required=True, type=click.Path(exists=True))
def text_evaluate(task, pred, gold):
    """SI F1 (partial credit for overlap) or TC micro-F1 of predictions against gold labels."""
    from unmask.content.semeval import read_labels, si_scores, tc_scores

    score = (si_scores if task == "si" else tc_scores)(read_labels(pred, task), read_labels(gold, task))
    click.echo(_json(score))


@cli.group()
def media():
    """The state-media list."""


@media.command("update")
@click.argument("file", type=click.Path(exists=True))
def media_update(file):
    """Make FILE (State Media Matrix columns) the state-media list used from now on."""
    from unmask.media.statemedia import update

    info = update(file)
    out.print(f"state-media list: {info['outlets']} outlets, sha256 {info['sha256'][:16]}…, stored at {info['file']}",
              highlight=False)


@media.command("show")
def media_show():
    """Print the version of the state-media list in use."""
    from unmask.media.statemedia import load

    click.echo(json.dumps(load()["version"], indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
