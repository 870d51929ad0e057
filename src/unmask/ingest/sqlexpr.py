"""SQL expressions shared by every adapter: list fields, ids, booleans, times, text keys.

Post text is written by the operators being exposed; everything here treats it as data.
"""

from __future__ import annotations

# Time formats seen across platform releases, tried in order.
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%g",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S.%gZ",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%a %b %d %H:%M:%S %z %Y",
    "%Y-%m-%d",
)
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y", "%d-%m-%Y")

TWITTER_EPOCH_MS = 1288834974657
EXCEL_ID = r"^\s*-?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+\s*$"
MINUTE_PATTERN = r"^\s*([0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2})\s*$"


def q(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def fmt_list(formats) -> str:
    return "[" + ", ".join(q(f) for f in formats) + "]"


def nullif_blank(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def bracket_list(expr: str) -> str:
    """``['a', 'b']`` or ``["a","b"]`` (Python repr or JSON) to a list of strings."""
    return (
        f"list_filter(list_transform(regexp_extract_all(coalesce({expr}, ''), "
        f"$$'[^']*'|\"[^\"]*\"$$), lambda x: substr(x, 2, length(x) - 2)), lambda x: x <> '')"
    )


def split_list(expr: str, delimiter: str | None) -> str:
    """A delimited string to a list; ``None`` splits on spaces, commas or ``|``."""
    pattern = r"[\s,|]+" if delimiter is None else "\\s*" + _re_escape(delimiter) + "\\s*"
    return f"list_filter(string_split_regex(trim(coalesce({expr}, '')), {q(pattern)}), lambda x: x <> '')"


def _re_escape(s: str) -> str:
    return "".join("\\" + c if c in r".^$*+?{}[]\|()" else c for c in s)


def auto_list(expr: str, delimiter: str | None = None) -> str:
    """Bracketed/JSON lists when the value starts with ``[``, else delimiter-split."""
    return (
        f"CASE WHEN {expr} IS NULL THEN []::VARCHAR[] "
        f"WHEN ltrim({expr}) LIKE '[%' THEN {bracket_list(expr)} "
        f"ELSE {split_list(expr, delimiter)} END"
    )


def boolean(expr: str) -> str:
    return f"(lower(trim(coalesce({expr}, ''))) IN ('true', 't', '1', 'yes', 'y'))"


def snowflake_ms(expr: str) -> str:
    """Milliseconds since epoch from a Twitter snowflake id, else NULL."""
    return (
        f"CASE WHEN regexp_full_match(coalesce({expr}, ''), '[0-9]{{15,19}}') "
        f"AND try_cast({expr} AS UBIGINT) IS NOT NULL "
        f"THEN ((try_cast({expr} AS UBIGINT) >> 22)::BIGINT + {TWITTER_EPOCH_MS}) END"
    )


def parse_time(expr: str, mode: str = "auto") -> str:
    """A timestamp (UTC) from text; NULL when unparsable, which callers reject, never keep."""
    numeric = f"try_cast(trim({expr}) AS DOUBLE)"
    is_num = f"regexp_full_match(trim({expr}), '-?[0-9]+(\\.[0-9]+)?')"
    strings = (
        f"coalesce(try_strptime(trim({expr}), {fmt_list(TIME_FORMATS)})::TIMESTAMP, "
        f"try_cast(trim({expr}) AS TIMESTAMPTZ)::TIMESTAMP)"
    )
    epoch_s = f"to_timestamp({numeric})::TIMESTAMP"
    epoch_ms = f"to_timestamp({numeric} / 1000.0)::TIMESTAMP"
    excel = f"(TIMESTAMP '1899-12-30' + to_microseconds(CAST(round({numeric} * 86400000000) AS BIGINT)))"
    if mode == "epoch_s":
        return f"CASE WHEN {is_num} THEN {epoch_s} END"
    if mode == "epoch_ms":
        return f"CASE WHEN {is_num} THEN {epoch_ms} END"
    if mode == "excel":
        return f"CASE WHEN {is_num} THEN {excel} END"
    if mode == "iso":
        return strings
    return (
        f"CASE WHEN {is_num} THEN (CASE WHEN abs({numeric}) >= 1e11 THEN {epoch_ms} "
        f"ELSE {epoch_s} END) ELSE {strings} END"
    )


def parse_date(expr: str) -> str:
    return (
        f"coalesce(try_strptime(trim({expr}), {fmt_list(DATE_FORMATS)})::TIMESTAMP, "
        f"try_cast(trim({expr}) AS TIMESTAMPTZ)::TIMESTAMP)"
    )


def text_key(expr: str) -> str:
    """A retweet's reference key from the original's text, for releases without retweet ids."""
    norm = (
        f"trim(regexp_replace(regexp_replace(regexp_replace(lower(coalesce({expr}, '')), "
        f"'^rt @[^ :]+:?\\s*', ''), 'https?://\\S+', '', 'g'), '\\s+', ' ', 'g'))"
    )
    return f"('text:' || md5({norm}))"


def kind(expr: str) -> str:
    k = f"lower(trim(coalesce({expr}, '')))"
    return (
        f"CASE WHEN {k} IN ('', 'original', 'o', 'tweet', 'post', 'false', '0') THEN 'original' "
        f"WHEN {k} IN ('retweet', 'r', 'rt', 'retweeted', 'repost', 'share', 'true', '1') THEN 'retweet' "
        f"WHEN {k} IN ('reply', 'replied_to', 'comment') THEN 'reply' "
        f"WHEN {k} IN ('quote', 'q', 'quoted') THEN 'quote' END"
    )


def domains(urls_expr: str) -> str:
    return (
        f"list_filter(list_transform({urls_expr}, lambda u: regexp_extract(lower(u), "
        f"'^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(?:www[0-9]?\\.)?([^/:?#]+)', 1)), lambda d: d <> '')"
    )
