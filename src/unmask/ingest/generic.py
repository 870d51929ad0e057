"""Generic CSV, JSONL or Parquet with a column mapping (given, from TOML, or by name hints)."""

from __future__ import annotations

import pyarrow as pa

from unmask.errors import InputError
from unmask.ingest import csvread
from unmask.ingest import sqlexpr as X
from unmask.ingest.jsonlines import iter_objects
from unmask.ingest.loader import RawSource, drop_raw

# canonical field -> raw column it fills
FIELDS = {
    "post_id": "post_id", "account_id": "account_id", "created_at": "time_raw", "text": "text",
    "lang": "lang", "kind": "kind_raw", "ref_post_id": "ref_post_id",
    "ref_account_id": "ref_account_id", "urls": "urls", "hashtags": "hashtags",
    "mentions": "mentions", "client": "client", "platform": "platform", "handle": "handle",
    "display_name": "display_name", "description": "description",
    "reported_location": "reported_location", "profile_url": "profile_url",
    "account_created_at": "account_created_raw", "followers": "followers_raw",
    "following": "following_raw", "account_language": "account_language",
    "is_retweet": None, "reply_to_post_id": None, "quoted_post_id": None,
}
# Entities found in the text when a file has no column for them (RE2 syntax, Unicode letters).
TEXT_ENTITIES = {
    "hashtags": r"(?:^|[^\p{L}\p{N}_&/#])[#＃]([\p{L}\p{M}\p{N}_]*[\p{L}\p{M}][\p{L}\p{M}\p{N}_]*)",
    "mentions": r"(?:^|[^\p{L}\p{N}_@])[@＠]([A-Za-z0-9_]{1,30})",
    "urls": r"(https?://[^\s<>\"'\x{201c}\x{201d}]+[^\s<>\"'.,;:!?)\]\x{201c}\x{201d}])",
}
RT_PREFIX = r"^RT @([A-Za-z0-9_]{1,30}):"
ENTITY_MARKS = {"hashtags": ("#", "＃"), "mentions": ("@", "＠"), "urls": ("http",)}
HINTS = {
    "post_id": ["post_id", "tweet_id", "tweetid", "status_id", "content_id", "message_id", "id"],
    "account_id": ["account_id", "user_id", "userid", "author_id", "external_author_id"],
    "created_at": ["created_at", "timestamp", "timestamp_share", "publish_date", "tweet_time",
                   "posted_at", "datetime", "time", "date"],
    "text": ["text", "content", "tweet_text", "full_text", "message", "body"],
    "lang": ["lang", "language", "tweet_language"],
    "kind": ["kind", "post_type"],
    "is_retweet": ["is_retweet", "retweet"],
    "ref_post_id": ["ref_post_id", "retweet_tweetid", "retweet_id", "object_id", "referenced_id"],
    "ref_account_id": ["ref_account_id", "retweet_userid"],
    "reply_to_post_id": ["reply_to_post_id", "in_reply_to_tweetid", "in_reply_to_status_id", "in_reply_to_id",
                         "reply_to", "parent_id"],
    "quoted_post_id": ["quoted_post_id", "quoted_tweet_tweetid", "quoted_status_id", "quoted_id", "quote_id"],
    "urls": ["urls", "url", "links", "url_id"],
    "hashtags": ["hashtags", "hashtag", "hashtag_id"],
    "mentions": ["mentions", "user_mentions"],
    "client": ["client", "source", "tweet_client_name"],
    "handle": ["handle", "screen_name", "username", "user_screen_name", "author"],
    "display_name": ["display_name", "name", "user_display_name"],
    "description": ["description", "bio", "user_profile_description"],
    "reported_location": ["reported_location", "location", "user_location", "user_reported_location", "region"],
    "followers": ["followers", "followers_count", "follower_count"],
    "following": ["following", "following_count", "friends_count"],
    "account_language": ["account_language"],
    "account_created_at": ["account_created_at", "account_creation_date", "user_created_at"],
}
LIST_FIELDS = ("urls", "hashtags", "mentions")


def auto_mapping(columns: list[str], given: dict) -> tuple[dict, list[str]]:
    """Fill unmapped fields by name hints where exactly one column fits; return notes on the rest."""
    lower = {c.lower(): c for c in columns}
    used = set(given.values())
    mapping, notes = dict(given), []
    for fld, hints in HINTS.items():
        if fld in mapping:
            continue
        hits = [lower[h] for h in hints if h in lower and lower[h] not in used]
        if fld in lower and lower[fld] not in used:
            hits = [lower[fld]]
        if len(hits) == 1:
            mapping[fld] = hits[0]
            used.add(hits[0])
        elif len(hits) > 1:
            notes.append(f"{fld}: ambiguous between {hits}; set it with --map {fld}=COLUMN")
    return mapping, notes


def inferred_notes(mapping: dict, const: dict) -> list[str]:
    """What the generic adapter infers rather than reads, in words for the printed mapping."""
    notes = []
    if "kind" not in mapping and "kind" not in const and "is_retweet" not in mapping:
        signs = [s for s, f in (("a reply_to_post_id makes a reply", "reply_to_post_id"),
                                ("a quoted_post_id makes a quote", "quoted_post_id"),
                                ("a ref_post_id makes a retweet", "ref_post_id")) if f in mapping]
        notes.append("kind inferred: " + "; ".join(signs + ["an 'RT @user:' text prefix makes a retweet",
                                                           "anything else is an original"]))
    if "text" in mapping:
        found = [f for f in LIST_FIELDS if f not in mapping]
        if found:
            notes.append(f"{', '.join(found)} extracted from the text (no column mapped)")
        if "ref_account_id" not in mapping and "ref_account_id" not in const:
            notes.append("ref_account_id taken from an 'RT @user:' text prefix where there is one")
    return notes


def _ident(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def raw_sql(rows: str, mapping: dict, types: dict, const: dict, delimiter: str | None) -> str:
    """Project the source's rows (with ``source_row``, :func:`csvread.numbered`) through the mapping
    into the raw columns."""
    def text_of(fld):
        if fld in const:
            return X.q(str(const[fld]))
        if fld not in mapping:
            return "NULL::VARCHAR"
        return f"CAST({_ident(mapping[fld])} AS VARCHAR)"

    def list_of(fld):
        if fld not in mapping:
            if "text" in mapping:  # entities from the text (stated in the mapping's notes)
                t = f"coalesce({text_of('text')}, '')"
                cheap = " OR ".join(f"contains({t}, {X.q(c)})" for c in ENTITY_MARKS[fld])  # skip the regex
                return (f"CASE WHEN {cheap} THEN regexp_extract_all({t}, {X.q(TEXT_ENTITIES[fld])}, 1) "
                        "ELSE []::VARCHAR[] END")
            return "[]::VARCHAR[]"
        col = _ident(mapping[fld])
        if types.get(mapping[fld], "").endswith("[]"):
            return f"list_transform(coalesce({col}, []), lambda x: CAST(x AS VARCHAR))"
        return X.auto_list(f"CAST({col} AS VARCHAR)", delimiter)

    kind = text_of("kind")
    ref = text_of("ref_post_id")
    reply, quoted = text_of("reply_to_post_id"), text_of("quoted_post_id")
    has = lambda e: f"nullif(trim(coalesce({e}, '')), '') IS NOT NULL"  # noqa: E731
    rt_prefix = (f"(starts_with(coalesce({text_of('text')}, ''), 'RT @') AND "
                 f"regexp_matches(coalesce({text_of('text')}, ''), {X.q(RT_PREFIX)}))" if "text" in mapping else "false")
    if "kind" not in mapping and "kind" not in const:
        # Inferred kind (stated in the mapping's notes): a reply or quote column says so; a reference
        # to another post with no other sign, or an 'RT @user:' prefix, makes a retweet.
        kind = ("CASE " + (f"WHEN {has(reply)} THEN 'reply' " if "reply_to_post_id" in mapping else "")
                + (f"WHEN {has(quoted)} THEN 'quote' " if "quoted_post_id" in mapping else "")
                + (f"WHEN {has(ref)} THEN 'retweet' " if "ref_post_id" in mapping else "")
                + f"WHEN {rt_prefix} THEN 'retweet' ELSE 'original' END")
    if "is_retweet" in mapping:
        kind = f"CASE WHEN {X.boolean(text_of('is_retweet'))} THEN 'retweet' ELSE coalesce({kind}, 'original') END"
    if "reply_to_post_id" in mapping or "quoted_post_id" in mapping:
        ref = f"coalesce(nullif(trim({ref}), ''), nullif(trim({reply}), ''), nullif(trim({quoted}), ''))"
    if "post_id" in mapping:  # rows that repeat a post (one row per object) merge their lists
        part = f"OVER (PARTITION BY {_ident(mapping['post_id'])})"
        lists = {f: f"CASE WHEN count(*) {part} > 1 THEN list_sort(list_distinct(flatten(list({list_of(f)}) {part}))) "
                    f"ELSE {list_of(f)} END" for f in LIST_FIELDS}
    else:
        lists = {f: list_of(f) for f in LIST_FIELDS}
    cols = {raw: text_of(fld) for fld, raw in FIELDS.items() if raw and fld not in LIST_FIELDS}
    cols["kind_raw"] = kind
    cols["ref_post_id"] = ref
    if "ref_account_id" not in mapping and "ref_account_id" not in const and "text" in mapping:
        cols["ref_account_id"] = (f"CASE WHEN starts_with(coalesce({text_of('text')}, ''), 'RT @') THEN "
                                  f"nullif(regexp_extract({text_of('text')}, {X.q(RT_PREFIX)}, 1), '') END")
    cols["platform"] = text_of("platform") if ("platform" in mapping or "platform" in const) else "'generic'"
    select = ", ".join(f"{expr} AS {raw}" for raw, expr in cols.items())
    show = ", ".join(_ident(c) for c in list(mapping.values())[:4])
    return f"""
    SELECT source_row, {select},
        {lists['urls']} AS urls, {lists['hashtags']} AS hashtags, {lists['mentions']} AS mentions,
        left(concat_ws(',', {show}), 500) AS raw_line
    FROM {rows}
    """


def _jsonl_table(path: str):
    """Flat JSONL to Arrow; lines that are not JSON objects become rejects with their line number."""
    rows, rejects = [], []
    for _, obj, bad in iter_objects(path):
        if bad:
            rejects.append(bad)
        else:
            rows.append({k: (v if isinstance(v, list) else (None if v is None else str(v))) for k, v in obj.items()})
    keys = sorted({k for r in rows for k in r})
    cols = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        if any(isinstance(v, list) for v in vals):
            cols[k] = pa.array([[str(x) for x in v] if isinstance(v, list) else ([] if v is None else [v]) for v in vals],
                               type=pa.list_(pa.string()))
        else:
            cols[k] = pa.array(vals, type=pa.string())
    return pa.table(cols) if cols else pa.table({"_empty": pa.array([], pa.string())}), rejects


def source(path: str, mapping: dict | None = None, const: dict | None = None, fmt: str | None = None,
           time_mode: str = "auto", delimiter: str | None = None, csv_delimiter: str = ",",
           display_name: str | None = None) -> RawSource:
    """A RawSource for a generic file. ``fmt`` is csv, jsonl or parquet (from the suffix when None)."""
    name = display_name or str(path)
    p = str(path).lower()
    fmt = fmt or ("parquet" if p.endswith(".parquet") else "jsonl" if p.endswith((".jsonl", ".json", ".ndjson"))
                  else "csv")
    given, const = dict(mapping or {}), dict(const or {})
    unknown = [k for k in list(given) + list(const) if k not in FIELDS]
    if unknown:
        raise InputError(f"unknown canonical field(s) {unknown}; known: {sorted(FIELDS)}", file=name)
    src = RawSource(file=name, format=f"generic-{fmt}", target="posts", setup=None,
                    time_mode=time_mode, snowflake=False)

    def setup(eng):
        if fmt == "csv":
            header = csvread.read_header(path, csv_delimiter)
            scan = csvread.scan_sql(path, header, csv_delimiter)
            csvread.reset_rejects(eng)
            types = {}
        elif fmt == "parquet":
            scan = f"read_parquet({X.q(str(path))})"
            types = _types(eng, scan)
        else:
            table, rejects = _jsonl_table(path)
            if "_empty" in table.column_names:
                first = rejects[0] if rejects else {}
                raise InputError("no JSON object could be read: the file is empty, truncated or not JSON Lines"
                                 + (f" (first bad line: {first.get('reason', '')})" if first else ""),
                                 file=name, row=first.get("row", 0))
            eng.register("_jsonl", table)
            scan, src.parser_rejects = "_jsonl", rejects
            types = _types(eng, scan)
        columns = header if fmt == "csv" else list(types)
        full, notes = auto_mapping(columns, given)
        missing = [c for c in full.values() if c not in columns]
        if missing:
            raise InputError(f"mapped column(s) {missing} not in the file; it has {columns[:30]}", file=name,
                             column=missing[0])
        for required in ("account_id", "created_at"):
            if required not in full and required not in const:
                raise InputError(f"no column for {required}; pass --map {required}=COLUMN "
                                 f"(columns: {columns[:30]})", file=name, column=required)
        notes += inferred_notes(full, const)
        src.mapping = {"columns": full, "const": const, "notes": notes, "time_mode": time_mode}
        drop_raw(eng)  # the file read before may have left a view or a table of that name
        eng.create_table("_raw", raw_sql(csvread.numbered(eng, scan), full, types, const, delimiter))
        if fmt == "csv":
            src.parser_rejects = csvread.collect_rejects(eng)
        src.derive_ids = "post_id" not in full
    src.setup = setup
    return src


def _types(eng, scan) -> dict:
    return {r["column_name"]: r["column_type"] for r in eng.query(f"DESCRIBE SELECT * FROM {scan}").to_pylist()}
