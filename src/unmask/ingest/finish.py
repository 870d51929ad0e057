"""Turn an adapter's raw relation into canonical rows, rejecting with reasons and never guessing.

Every adapter exposes a relation called ``_raw`` with the columns of :data:`RAW_COLUMNS`
(text, except the list columns and ``source_row``). The SQL here is shared by all of them.
"""

from __future__ import annotations

from unmask.ingest import sqlexpr as X

RAW_COLUMNS = (
    "source_row", "post_id", "account_id", "time_raw", "text", "lang", "kind_raw",
    "ref_post_id", "ref_account_id", "urls", "hashtags", "mentions", "client", "platform",
    "handle", "display_name", "description", "reported_location", "profile_url",
    "account_created_raw", "followers_raw", "following_raw", "account_language", "raw_line",
)

_ID_COLUMNS = ("post_id", "account_id", "ref_post_id", "ref_account_id")


def _reject_reason(time_mode: str) -> str:
    """First failing rule as (column, reason); NULL when the row is good."""
    rules = []
    for col in _ID_COLUMNS:
        rules.append(
            (f"regexp_matches(coalesce({col}, ''), {X.q(X.EXCEL_ID)})", col,
             "id mangled by Excel into scientific notation; the digits are lost and are not guessed")
        )
    rules += [
        ("account_id IS NULL", "account_id", "missing account id"),
        ("time_raw IS NULL", "time", "missing time"),
        ("t_parsed IS NULL", "time", f"unparsable time (mode {time_mode})"),
        *([] if time_mode in ("epoch_s", "epoch_ms") else [
            ("t_parsed < TIMESTAMP '2000-01-01' OR t_parsed > now()::TIMESTAMP + INTERVAL 366 DAY",
             "time", "time outside 2000-01-01 .. next year; check the time unit (or say it with --time-mode)")]),
        ("kind_norm IS NULL", "kind", "unknown post kind"),
        ("followers_raw IS NOT NULL AND try_cast(followers_raw AS DOUBLE) IS NULL", "followers",
         "follower count is not a number"),
        ("following_raw IS NOT NULL AND try_cast(following_raw AS DOUBLE) IS NULL", "following",
         "following count is not a number"),
        ("account_created_raw IS NOT NULL AND acct_created IS NULL", "account_created",
         "unparsable account creation date"),
    ]
    col = "CASE " + " ".join(f"WHEN {c} THEN {X.q(n)}" for c, n, _ in rules) + " END"
    why = "CASE " + " ".join(f"WHEN {c} THEN {X.q(r)}" for c, _, r in rules) + " END"
    return col, why


def staged_sql(time_mode: str = "auto", snowflake: bool = True) -> str:
    """SQL over ``_raw`` giving parsed columns plus ``reject_column`` / ``reject_reason``.

    ``raw_line`` (the row as read, for a reject's record) stays in ``_raw``: it is the widest
    column, and only rejected rows need it (:func:`rejects_sql`). At 1M archive rows, staging it
    took 0.9 of 3.0 s."""
    sf = X.snowflake_ms("post_id") if snowflake else "NULL::BIGINT"
    col, why = _reject_reason(time_mode)
    return f"""
    WITH base AS (
        SELECT *,
            {X.parse_time('time_raw', time_mode)} AS t_parsed,
            {sf} AS sf_ms,
            {X.kind('kind_raw')} AS kind_norm,
            {X.parse_date('account_created_raw')} AS acct_created
        FROM (SELECT * REPLACE (
                {X.nullif_blank('post_id')} AS post_id, {X.nullif_blank('account_id')} AS account_id,
                {X.nullif_blank('time_raw')} AS time_raw, {X.nullif_blank('ref_post_id')} AS ref_post_id,
                {X.nullif_blank('ref_account_id')} AS ref_account_id,
                {X.nullif_blank('followers_raw')} AS followers_raw,
                {X.nullif_blank('following_raw')} AS following_raw,
                {X.nullif_blank('account_created_raw')} AS account_created_raw)
              FROM _raw)
    )
    SELECT * EXCLUDE (raw_line), {col} AS reject_column, {why} AS reject_reason FROM base
    """


def posts_sql(engine, source_file: str, derive_ids: bool = True) -> str:
    """Canonical posts from the good rows of ``_staged``.

    ``derive_ids`` adds a stable id for rows without one (a window over the rows, so adapters
    whose format always carries ids switch it off). Each post's normalised-text key
    (:func:`unmask.normalise.norm_text`) is computed here, once, while the row is at hand:
    co_text groups on it instead of re-running the regular expressions on every detect.
    """
    from unmask.normalise import norm_text

    nt = norm_text(engine, "text")
    use_sf = (
        "sf_ms IS NOT NULL AND epoch_ms(sf_ms) >= t_parsed - INTERVAL 1 SECOND "
        "AND epoch_ms(sf_ms) < t_parsed + INTERVAL 61 SECOND"
    )
    derived_id = (
        "'derived:' || md5(account_id || '|' || time_raw || '|' || coalesce(text, '') || '|' || "
        "row_number() OVER (PARTITION BY account_id, time_raw, coalesce(text, '') ORDER BY source_row))"
    )
    # a format that normally carries ids can still have a blank one: derive it from the row itself
    row_id = "'derived:' || md5(account_id || '|' || time_raw || '|' || coalesce(text, '') || '|r' || source_row)"
    post_id = f"coalesce(post_id, {derived_id if derive_ids else row_id})"
    return f"""
    SELECT
        {post_id} AS post_id,
        account_id,
        CASE WHEN {use_sf} THEN epoch_ms(sf_ms) ELSE t_parsed END AS created_at,
        CASE WHEN {use_sf} THEN 'ms'
             WHEN regexp_matches(time_raw, {X.q(X.MINUTE_PATTERN)}) THEN 'minute' ELSE 's' END
            AS time_precision,
        text, nullif(trim(lang), '') AS lang, kind_norm AS kind,
        CASE WHEN ref_post_id IS NULL AND kind_norm = 'retweet' THEN {X.text_key('text')}
             ELSE ref_post_id END AS ref_post_id,
        ref_account_id,
        coalesce(urls, []::VARCHAR[]) AS urls,
        {X.domains('coalesce(urls, []::VARCHAR[])')} AS domains,
        list_transform(coalesce(hashtags, []::VARCHAR[]), lambda h: ltrim(h, '#')) AS hashtags,
        list_transform(coalesce(mentions, []::VARCHAR[]), lambda m: ltrim(m, '@')) AS mentions,
        nullif(trim(client), '') AS client, platform,
        {X.q(source_file)} AS source_file, source_row,
        md5(nt) AS text_hash, CAST(length(nt) AS INTEGER) AS text_len
    FROM (SELECT *, {nt} AS nt FROM _staged WHERE reject_reason IS NULL) s
    """


def post_links_sql(engine, posts: str) -> str:
    """One row per URL of each post in ``posts`` (canonical columns), normalised for co_link
    (:func:`unmask.normalise.norm_url`). Kept beside ``posts`` so that co_link reads a few
    hundred thousand link rows instead of scanning every post; blank URLs are left out."""
    from unmask.normalise import norm_url

    return f"""
    SELECT post_id, account_id, {engine.epoch_ms('created_at')} AS t, kind, {norm_url(engine, 'u')} AS link_key
    FROM (SELECT post_id, account_id, created_at, kind, {engine.explode('urls')} AS u
          FROM {posts} p WHERE {engine.list_len('urls')} > 0) x
    WHERE trim(u) <> ''
    """


def accounts_sql() -> str:
    """One row per account from the good rows of ``_staged`` (the latest row's profile)."""
    def latest(c):
        return f"arg_max({c}, source_row) FILTER (WHERE {c} IS NOT NULL)"

    return f"""
    SELECT account_id,
        {latest('handle')} AS handle, {latest('display_name')} AS display_name,
        {latest('description')} AS description, {latest('reported_location')} AS reported_location,
        {latest('profile_url')} AS profile_url, {latest('acct_created')} AS created_at,
        CAST({latest('try_cast(followers_raw AS DOUBLE)')} AS BIGINT) AS followers,
        CAST({latest('try_cast(following_raw AS DOUBLE)')} AS BIGINT) AS following,
        {latest("nullif(trim(account_language), '')")} AS account_language,
        NOT regexp_full_match(account_id, '[0-9]+') AS is_hashed
    FROM _staged WHERE reject_reason IS NULL
    GROUP BY account_id
    """


def rejects_sql(source_file: str) -> str:
    """The rejected rows of ``_staged``, each with its line as read from ``_raw`` (``source_row`` is
    unique there: every adapter numbers its rows one by one)."""
    return f"""
    SELECT {X.q(source_file)} AS file, s.source_row AS "row", s.reject_column AS "column",
           s.reject_reason AS reason, left(r.raw_line, 500) AS raw
    FROM (SELECT source_row, reject_column, reject_reason FROM _staged WHERE reject_reason IS NOT NULL) s
         LEFT JOIN (SELECT source_row, raw_line FROM _raw) r ON r.source_row = s.source_row
    ORDER BY s.source_row
    """
