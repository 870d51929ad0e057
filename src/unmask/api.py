"""The public pipeline: ingest -> detect -> significance -> clusters -> checks -> report.

Each step is a plain function over a :class:`~unmask.store.Case`; the CLI calls these and
prints. Results and the parameters that made them are written into the case.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from unmask import __version__, schema
from unmask.ingest import ingest  # noqa: F401  (re-exported)
from unmask.network import cells, clustering, fusion, groupnull, groups, scores, significance
from unmask.store import Case
from unmask.traces import DEFAULT_TRACES, run_trace

EVIDENCE_SCHEMA = pa.schema([("account_a", pa.string()), ("account_b", pa.string()), ("trace", pa.string()),
                             ("object", pa.string()), ("post_a", pa.string()), ("post_b", pa.string()),
                             ("dt_ms", pa.int64())])
EVIDENCE_P = 0.05  # evidence is sampled for the edges with p <= this (see detect)


@contextmanager
def engine_for(case, engine: str = "duckdb", master=None, inputs_at=None):
    """The engine that runs the traces, with the case's input tables in it.

    ``duckdb`` is the case's own database, through :meth:`Case.reader` (a connection outside the
    step's transaction). Another engine reads the input tables where they lie: the
    Parquet layout's datasets, or ``inputs_at`` (a folder or URI, e.g. ``s3a://bucket/case``, holding
    a copy of them: ``posts/``, ``post_links/``). A case in the DuckDB layout is first written out as
    such datasets, beside the case, and they are removed afterwards. Nothing goes through the driver.
    """
    if engine == "duckdb":
        if master or inputs_at:
            from unmask.errors import ParameterError

            raise ParameterError("--spark-master and --inputs-at apply to --engine spark only")
        with case.reader() as eng:
            yield eng
        return
    import shutil
    import tempfile

    from unmask.engines import get_engine

    eng = get_engine(engine, **({"master": master} if master else {}))
    scratch = None
    try:
        for name in schema.INPUT_TABLES:
            if inputs_at:
                where = f"{str(inputs_at).rstrip('/')}/{name}"
            elif case.dataset(name) is not None:
                where = case.dataset(name)
            else:
                scratch = scratch or Path(tempfile.mkdtemp(prefix=".unmask-inputs-", dir=case.path.parent))
                where = case.write_dataset(name, scratch / name)
            eng.register_dataset(name, str(where), case.engine.query(f"SELECT * FROM {name} LIMIT 0").schema)
        eng.size_for(case.count("posts"))
        yield eng
    finally:
        eng.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def detect(case: Case, traces=None, windows=None, min_weights=None, engine="duckdb", max_neighbors=100,
           evidence_k=5, shuffles=10, seed=0, progress=None, keep=True, evidence_p=EVIDENCE_P,
           spark_master=None, inputs_at=None) -> dict:
    """Run traces and store their edges (with p- and q-values), evidence and statistics.

    Evidence (up to ``evidence_k`` sampled co-actions per edge) is kept for the edges whose own
    p-value is at most ``evidence_p``: the edges that can carry a link. Every edge keeps its weight,
    p- and q-value; on a large case nearly all of them are chance (at 1M posts, minimum weight 1,
    17,692 of 12.0M co-retweet edges have p <= 0.05) and sampling their co-actions wrote 14.4M
    evidence rows that nothing reads. ``evidence_p=1`` keeps evidence for every edge.

    Incremental: with ``keep`` (the default), the edges, evidence and statistics of traces detected
    earlier and not named in ``traces`` stay in the case and are fused with the new ones; only the
    named traces are recomputed. ``keep=False`` forgets them."""
    names = list(traces or DEFAULT_TRACES)
    earlier = case.get_meta("detect") if keep and case.has_table("edges") else None
    kept_traces = [t for t in (earlier or {}).get("traces", []) if t not in names]
    windows, min_weights = dict(windows or {}), dict(min_weights or {})
    n_posts = case.count("posts")
    stale = []
    if kept_traces and (earlier or {}).get("posts") != n_posts:
        # Traces detected before new posts arrived are older than the posts: recompute them (with
        # their own parameters) rather than fuse stale edges with fresh ones.
        stale, kept_traces = kept_traces, []
        for t in stale:
            old = earlier["stats"].get(t) or {}
            if old.get("window_s") is not None:
                windows.setdefault(t, old["window_s"])
            if old.get("min_weight") is not None:
                min_weights.setdefault(t, old["min_weight"])
        names = stale + names
    for key in list(windows) + list(min_weights):
        if key not in names:
            from unmask.errors import ParameterError

            raise ParameterError(f"parameter given for trace {key!r}, which is not run (running {names})")
    stats, timings, tested = {}, {}, {}
    case.engine.register("_ev_empty", EVIDENCE_SCHEMA.empty_table())
    case.engine.create_table("_edge_evidence_new", "SELECT * FROM _ev_empty")
    case.engine.unregister("_ev_empty")
    if kept_traces:
        case.engine.register("_kept_traces", pa.table({"trace": pa.array(kept_traces, pa.string())}))
        case.engine.execute("INSERT INTO _edge_evidence_new SELECT * FROM edge_evidence "
                            "WHERE trace IN (SELECT trace FROM _kept_traces)")
    from unmask import progress as prog

    with engine_for(case, engine, spark_master, inputs_at) as eng:  # the traces' engine, closed after them
        prog.start(progress, "detect", len(names), n_posts * len(names), eng if engine == "duckdb" else None)
        try:
            for i, name in enumerate(names):
                t0 = time.perf_counter()
                res = run_trace(eng, name, windows.get(name), min_weights.get(name), max_neighbors, evidence_k,
                                shuffles, seed)
                t1 = time.perf_counter()
                edges = significance.trace_pvalues(res)
                _store_edges(case, edges, first=i == 0)
                tested[name] = round(time.perf_counter() - t1, 3)
                res.stats["evidence_p"] = float(evidence_p)
                sampled = None if evidence_p >= 1 else edges.filter(
                    pc.less_equal(edges.column("p_value"), float(evidence_p))).select(["account_a", "account_b"])
                edges = None
                for batch in res.evidence_batches(pairs=sampled):  # into the case a batch at a time: bounded memory
                    case.engine.register("_ev_batch", batch.cast(EVIDENCE_SCHEMA))
                    case.engine.execute("INSERT INTO _edge_evidence_new SELECT * FROM _ev_batch")
                    case.engine.unregister("_ev_batch")
                res.release()
                stats[name] = res.stats
                timings[name] = round(time.perf_counter() - t0, 3)
                res = None  # this trace's edges are in the case now: free them before the next trace
                prog.advance(progress, n_posts, name)
        finally:
            prog.finish(progress)
    if kept_traces:
        case.engine.execute("INSERT INTO _edges_new BY NAME SELECT * EXCLUDE (q_value) FROM edges WHERE trace IN "
                            "(SELECT trace FROM _kept_traces)")
        case.engine.unregister("_kept_traces")
        for t in kept_traces:
            stats[t] = earlier["stats"][t]
            timings[t] = 0.0
        names = kept_traces + names
    m_total = sum(s["candidate_pairs"] for s in stats.values())
    t1 = time.perf_counter()
    n_edges = significance.store_qvalues(case.engine, "_edges_new", "edges", m_total)
    tested["q_values"] = round(time.perf_counter() - t1, 3)
    case.engine.drop("_edges_new")
    case.engine.execute("CREATE OR REPLACE TABLE edge_evidence AS SELECT * FROM _edge_evidence_new")
    case.engine.drop("_edge_evidence_new")
    case.set_meta("detect", {"traces": names, "kept": kept_traces, "recomputed_stale": stale, "posts": n_posts,
                             "engine": engine, "max_neighbors": max_neighbors,
                             "evidence_k": evidence_k, "evidence_p": evidence_p, "shuffles": shuffles, "seed": seed, "stats": stats, "seconds": timings,
                             "significance_seconds": tested, "unmask_version": __version__})
    return {"edges": n_edges, "stats": stats, "seconds": timings, "kept": kept_traces, "recomputed_stale": stale}


def _store_edges(case: Case, table: pa.Table, first: bool) -> None:
    """A trace's edges (with p-values) into the case's ``_edges_new`` at once, so that Python holds one
    trace's edges at a time; q-values come when every trace is in."""
    case.engine.register("_trace_edges", table)
    if first:
        case.engine.create_table("_edges_new", "SELECT * FROM _trace_edges")
    else:
        case.engine.execute("INSERT INTO _edges_new BY NAME SELECT * FROM _trace_edges")
    case.engine.unregister("_trace_edges")


def analyse(case: Case, alpha=0.05, resolution=1.0, seed=0, min_cluster=3, group_worlds=groupnull.WORLDS) -> dict:
    """Fuse traces, keep links at FDR ``alpha``, cluster them into networks, test each network as a
    group, split flagged networks into cells, and score networks and accounts.

    ``clusters`` gets one row per linked account: ``cluster`` (= ``network``, the community of the
    fused significant graph), ``cell`` (the content group inside a coordinated network), the
    network's ``group_p``/``group_q`` and ``status`` (``coordinated``, ``weak``: large enough but not
    beyond the run's false links, ``audience``: its links all run through one account, the group's
    ``hub`` (:func:`unmask.network.groups.audience_hub`), or ``small``). A network is coordinated
    when its group test passes (BH across groups) and it beats the best group of ``group_worlds`` null worlds
    (:mod:`unmask.network.groupnull`: its selection p-value). :func:`run_checks` then assesses
    covertness and turns ``coordinated`` into ``flagged`` or ``open``; ``is_candidate`` is true for
    coordinated members until then, and for flagged members after.
    """
    info = case.get_meta("detect")
    m_pairs = sum(s["candidate_pairs"] for s in info["stats"].values())
    clock = _Clock()
    fused = fusion.fuse_relation(case.engine, "edges", info["traces"], m_pairs)
    case.write_table("fused_edges", fused)
    sig = fused.filter(pa.compute.less_equal(fused.column("q_fused"), alpha))
    clock.lap("fusion")
    part = clustering.leiden(sig, resolution=resolution, seed=seed, min_size=min_cluster)
    sig_rows = fusion.link_rows(sig)
    members = clustering.candidate_members(part)
    clock.lap("clustering")
    tests = groups.test_groups(members, sig_rows, alpha, m_pairs, min_size=min_cluster)
    null_best = groupnull.best_null_groups(case.engine, info["traces"], m_pairs, alpha, resolution, seed,
                                           min_cluster, sig.num_rows, worlds=group_worlds) if tests else []
    for t in tests.values():
        t["selection_p"] = groupnull.selection_pvalue(t["p"], null_best) if group_worlds > 0 else None
    flagged = {g for g, t in tests.items()  # an audience (links all through one account) is no group
               if t["q"] <= alpha and (t["selection_p"] is None or t["selection_p"] <= alpha) and t["hub"] is None}
    clock.lap("group_tests")
    cell_of = _cells(case, sig_rows, members, flagged, seed)
    clusters = _cluster_table(part, tests, flagged, cell_of)
    case.write_table("clusters", clusters)
    case.write_table("groups", _group_table(members, tests, flagged))
    clock.lap("cells")
    ops = scores.cluster_scores(case, alpha)
    case.write_table("operations", ops)
    case.write_table("cells", scores.cell_summary(case))
    case.write_table("account_scores", scores.account_scores(case, alpha))
    clock.lap("scores")
    case.set_meta("analyse_seconds", clock.laps)  # apart from the summary: the report shows no timings
    expected_false = significance.expected_false(sig.column("q_fused").to_numpy(), alpha) if sig.num_rows else 0.0
    summary = {"alpha": alpha, "resolution": resolution, "seed": seed, "min_cluster": min_cluster,
               "candidate_pairs": m_pairs, "significant_links": sig.num_rows,
               "expected_false_links": expected_false,
               "groups_tested": len(tests), "weak_groups": len(tests) - len(flagged),
               "audience_groups": sum(1 for g, t in tests.items() if g not in flagged and t["hub"] is not None),
               "group_null_worlds": {"worlds": group_worlds if tests else 0,
                                     "resolution": 1.0 / (1 + group_worlds) if group_worlds > 0 else None,
                                     "best_p": [b["best_p"] for b in null_best],
                                     "best_size": [b["size"] for b in null_best]},
               "candidate_operations": int(ops.num_rows) if "size" in ops.column_names else 0,
               "cells": len(set(cell_of.values()))}
    case.set_meta("analyse", summary)
    return summary


class _Clock:
    """Seconds per named stage, for the stage table of the benchmarks (``analyse_seconds``)."""

    def __init__(self):
        self.laps, self._t = {}, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._t, 3)
        self._t = now


def _cells(case, sig_rows, members, flagged, seed) -> dict:
    """Global cell numbers (1, 2, ...) for the members of flagged networks, network by network."""
    fused_rows = [(a, b, min(300.0, -math.log10(max(p, 1e-300)))) for a, b, p in sig_rows]
    out, next_cell = {}, 1
    profile = cells.profiles(case.engine, [a for g in flagged for a in members[g]]) if flagged else None
    for g in sorted(flagged):
        local = cells.cells_of(case.engine, members[g], fused_rows, seed=seed, profile=profile)
        for acc, c in local.items():
            out[acc] = next_cell + c
        next_cell += max(local.values()) + 1
    return out


def _status(group, tests, flagged) -> str:
    """A network's status after the group tests: coordinated, an audience, weak, or small (untested)."""
    if group in flagged:
        return "coordinated"
    if group not in tests:
        return "small"
    return "audience" if tests[group]["hub"] is not None else "weak"


def _cluster_table(part, tests, flagged, cell_of) -> pa.Table:
    accs, cids = part.column("account_id").to_pylist(), part.column("cluster").to_pylist()
    status = [_status(c, tests, flagged) for c in cids]
    return pa.table({
        "account_id": pa.array(accs, pa.string()), "cluster": pa.array(cids, pa.int64()),
        "cluster_size": part.column("cluster_size"),
        "is_candidate": pa.array([s == "coordinated" for s in status], pa.bool_()),
        "network": pa.array(cids, pa.int64()),
        "cell": pa.array([cell_of.get(a) for a in accs], pa.int64()),
        "group_p": pa.array([tests[c]["p"] if c in tests else None for c in cids], pa.float64()),
        "group_q": pa.array([tests[c]["q"] if c in tests else None for c in cids], pa.float64()),
        "status": pa.array(status, pa.string()),
        "persona_type": pa.array([None] * len(accs), pa.int64())})  # set by the checks (persona_types)


def _group_table(members, tests, flagged) -> pa.Table:
    gs = sorted(tests)
    return pa.table({
        "cluster": pa.array(gs, pa.int64()), "size": pa.array([len(members[g]) for g in gs], pa.int64()),
        "links": pa.array([tests[g]["links"] for g in gs], pa.int64()),
        "strength": pa.array([tests[g]["strength"] for g in gs], pa.float64()),
        "expected_false_links": pa.array([tests[g]["mu"] for g in gs], pa.float64()),
        "group_p": pa.array([tests[g]["p"] for g in gs], pa.float64()),
        "group_q": pa.array([tests[g]["q"] for g in gs], pa.float64()),
        "selection_p": pa.array([tests[g]["selection_p"] for g in gs], pa.float64()),
        "status": pa.array([_status(g, tests, flagged) for g in gs], pa.string()),
        "hub": pa.array([tests[g]["hub"] for g in gs], pa.string())})


STEPS = ("ingest", "detect", "analyse", "checks")


def finished_steps(case: Case) -> list:
    """The pipeline steps this case has finished (each records itself when it commits)."""
    return list(case.get_meta("steps", []))


def _finish_step(case: Case, step: str) -> None:
    done = [s for s in finished_steps(case) if s != step]
    # A step invalidates the steps after it: they ran on what it replaced.
    keep = [s for s in done if STEPS.index(s) < STEPS.index(step)]
    case.set_meta("steps", keep + [step])


@contextmanager
def step(case: Case, name: str):
    """One pipeline step as one transaction that records itself in the case when it commits: an
    interrupted step (Ctrl-C, a kill) leaves the case as the previous step left it."""
    with case.transaction():
        yield
        _finish_step(case, name)


def run(inputs, out, fmt=None, mapping=None, const=None, traces=None, windows=None, min_weights=None,
        engine="duckdb", alpha=0.05, resolution=1.0, seed=0, min_cluster=3, report=True, progress=None,
        overwrite=False, resume=False, time_mode="auto", with_content=False, null_worlds=10,
        group_worlds=groupnull.WORLDS, evidence_p=EVIDENCE_P, layout=None, spark_master=None,
        inputs_at=None) -> dict:
    """The whole pipeline into ``out``: the case (``case.duckdb``, or the folder ``case`` in the
    Parquet ``layout``) and ``report.html``.

    Each step (ingest, detect, analyse, checks) runs in one transaction and records itself in the
    case when it commits, so an interrupted run leaves the case as the last finished step left it.
    An existing case is refused unless ``overwrite`` (start again) or ``resume`` (continue after the
    last finished step) is given. ``evidence_p`` is :func:`detect`'s.
    """
    from unmask.errors import UnmaskError
    from unmask.store import remove_case

    out = Path(out)
    paths = {"duckdb": out / "case.duckdb", "parquet": out / "case"}
    existing = [p for p in paths.values() if p.exists()]
    if existing and not (overwrite or resume):
        raise UnmaskError(f"{existing[0]} already holds a case; pass --overwrite to replace it, or --resume to "
                          "continue it from its last finished step")
    if resume and existing and layout is None:
        case_path = existing[0]
    else:
        case_path = paths[layout or "duckdb"]
    out.mkdir(parents=True, exist_ok=True)
    if overwrite and not resume:
        for stale in existing:
            remove_case(stale)
    timings = {}
    with Case(case_path, layout=layout) as case:
        done = finished_steps(case) if resume else []
        result = {"case": str(case_path), "resumed_after": done[-1] if done else None}
        # Run from the first step not finished on: a step invalidates the steps after it.
        todo = STEPS[next((i for i, s in enumerate(STEPS) if s not in done), len(STEPS)):]
        t0 = time.perf_counter()
        if "ingest" in todo:
            loaded = ingest(case, inputs, fmt=fmt, mapping=mapping, const=const, time_mode=time_mode)
            _finish_step(case, "ingest")
            result["ingest"] = [r.as_dict() for r in loaded]
            timings["ingest"] = time.perf_counter() - t0
        if "detect" in todo:
            t0 = time.perf_counter()
            with step(case, "detect"):
                result["detect"] = detect(case, traces=traces, windows=windows, min_weights=min_weights,
                                          engine=engine, seed=seed, shuffles=null_worlds, progress=progress,
                                          evidence_p=evidence_p, spark_master=spark_master, inputs_at=inputs_at)
            timings["detect"] = time.perf_counter() - t0
        if "analyse" in todo:
            t0 = time.perf_counter()
            with step(case, "analyse"):
                result["analyse"] = analyse(case, alpha=alpha, resolution=resolution, seed=seed,
                                            min_cluster=min_cluster, group_worlds=group_worlds)
            timings["analyse"] = time.perf_counter() - t0
        else:
            result["analyse"] = case.get_meta("analyse")
        if "checks" in todo:
            t0 = time.perf_counter()
            with step(case, "checks"):
                run_checks(case)
            timings["checks"] = time.perf_counter() - t0
        if with_content:
            t0 = time.perf_counter()
            with case.transaction():
                result["content"] = content(case, alpha=alpha, progress=progress)
            timings["content"] = time.perf_counter() - t0
        result.setdefault("detect", case.get_meta("detect"))
        result["analyse"] = case.get_meta("analyse")  # with the checks' verdicts: flagged and open networks
        if report:
            from unmask.report.html import write_report

            t0 = time.perf_counter()
            result["report"] = str(write_report(case, out / "report.html"))
            timings["report"] = time.perf_counter() - t0
        result["seconds"] = {k: round(v, 3) for k, v in timings.items()}
    return result


def content(case: Case, alpha=0.05, progress=None) -> dict:
    """Propaganda techniques in the case's own posts, profiled per network, cell and account
    against the organic accounts (:mod:`unmask.content.profiles`)."""
    from unmask.content import profiles

    return profiles.run(case, alpha=alpha, progress=progress)


def run_checks(case: Case) -> None:
    """Persona and state-media checks, then persona types across networks (they read the personas)."""
    from unmask import checks

    from unmask.network import persona_types

    clock = _Clock()
    checks.run_all(case)
    clock.lap("persona_and_media")
    if not case.has_table("clusters"):  # not analysed yet: nothing to assess, rank or type
        case.set_meta("checks_seconds", clock.laps)
        return
    _covertness(case)
    scores.add_check_scores(case)
    clock.lap("covertness_and_registration")
    info = case.get_meta("analyse") or {}
    info["persona_types"] = persona_types.persona_types(case, seed=info.get("seed", 0))
    case.set_meta("analyse", info)
    clock.lap("persona_types")
    case.set_meta("checks_seconds", clock.laps)  # for the benchmarks' stage table


def _covertness(case: Case) -> None:
    """Split the coordinated networks into flagged (covert) and open ones, and refresh what reads the
    flag: the operations (with their verdicts) and the account scores."""
    from unmask.network import covertness, registration

    info = case.get_meta("analyse") or {}
    registration.reset(case)  # an earlier run's registered accounts are not members of any network
    res = covertness.assess(case)
    alpha = info.get("alpha", 0.05)
    added = ["coordination_p", "covertness", "covertness_verdict", "covertness_summary", "verdict"]
    again = [c for c in added if c in case.table("operations").column_names]  # checks run a second time
    case.engine.execute(f"""
        CREATE OR REPLACE TABLE operations AS
        SELECT o.* EXCLUDE (rank{"".join(", " + c for c in again)}), g.coordination_p, g.covertness,
               g.covertness_verdict, g.covertness_summary, g.status AS verdict,
               -- candidate operations ranked first (1, 2, ...), then the open groups, each by score
               row_number() OVER (ORDER BY coalesce(g.status, 'flagged') = 'open', o.score DESC, o.cluster) AS rank
        FROM operations o LEFT JOIN groups g USING (cluster) WHERE g.status IS DISTINCT FROM 'registered'
        ORDER BY rank""")
    registered = registration.attach(case, alpha)
    if registered["groups"]:  # the registration groups' pooled rhythm, beside the networks'
        from unmask.persona.checks import cluster_profiles

        cluster_profiles(case)
    case.write_table("account_scores", scores.account_scores(case, alpha))
    info.update({"coordinated_networks": res["networks"], "candidate_operations": res["flagged_networks"],
                 "open_networks": res["open_networks"], "unassessed_networks": res["unassessed_networks"],
                 "covertness_threshold": res.get("threshold"), "registered_accounts": registered["kin"],
                 "registration_groups": registered["groups"],
                 "registration_group_accounts": registered["group_accounts"],
                 "registration_groups_not_flagged": registered["groups_not_flagged"]})
    case.set_meta("analyse", info)


def demo(out="unmask-demo", posts=40000, seed=7, progress=None) -> dict:
    """Simulate a small labelled world, run the pipeline on it, and evaluate against its labels."""
    from unmask.evaluate import evaluate
    from unmask.simulate import SimConfig, simulate
    from unmask.simulate.writers import write

    out = Path(out)
    data_dir = out / "data"
    files, labels = write(simulate(SimConfig(posts=posts, seed=seed)), data_dir)
    result = run(files, out, seed=seed, progress=progress, overwrite=True)
    with Case(out / "case.duckdb") as case:
        result["evaluation"] = evaluate(case, labels)
    (out / "evaluation.json").write_text(json.dumps(result["evaluation"], indent=2, sort_keys=True))
    return result
