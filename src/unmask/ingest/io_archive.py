"""Twitter's information-operations archive: the 31-column tweets CSV and the 10-column users CSV."""

from __future__ import annotations

from unmask.errors import InputError
from unmask.ingest import csvread
from unmask.ingest import sqlexpr as X
from unmask.ingest.loader import RawSource, drop_raw

TWEET_COLUMNS = (
    "tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location",
    "user_profile_description", "user_profile_url", "follower_count", "following_count",
    "account_creation_date", "account_language", "tweet_language", "tweet_text", "tweet_time",
    "tweet_client_name", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid",
    "is_retweet", "retweet_userid", "retweet_tweetid", "latitude", "longitude", "quote_count",
    "reply_count", "like_count", "retweet_count", "hashtags", "urls", "user_mentions", "poll_choices",
)
UNREAD_COLUMNS = ("latitude", "longitude", "quote_count", "reply_count", "like_count", "retweet_count",
                  "poll_choices")  # not staged: nothing in a case holds them
USER_COLUMNS = (
    "userid", "user_display_name", "user_screen_name", "user_reported_location",
    "user_profile_description", "user_profile_url", "follower_count", "following_count",
    "account_creation_date", "account_language",
)
STAGED_COLUMNS = frozenset(TWEET_COLUMNS + USER_COLUMNS) - frozenset(UNREAD_COLUMNS)


def _profile(prefix=""):
    return f"""
        {prefix}user_screen_name AS handle, {prefix}user_display_name AS display_name,
        {prefix}user_profile_description AS description,
        {prefix}user_reported_location AS reported_location, {prefix}user_profile_url AS profile_url,
        {prefix}account_creation_date AS account_created_raw, {prefix}follower_count AS followers_raw,
        {prefix}following_count AS following_raw, {prefix}account_language AS account_language"""


def tweets_raw_sql(rows: str) -> str:
    """``rows``: the file's rows with a ``source_row`` column (:func:`csvread.numbered`)."""
    rt = X.boolean("is_retweet")
    reply = "nullif(trim(in_reply_to_tweetid), '') IS NOT NULL"
    quote = "nullif(trim(quoted_tweet_tweetid), '') IS NOT NULL"
    return f"""
    SELECT source_row,
        tweetid AS post_id, userid AS account_id, tweet_time AS time_raw, tweet_text AS text,
        tweet_language AS lang,
        CASE WHEN {rt} THEN 'retweet' WHEN {reply} THEN 'reply' WHEN {quote} THEN 'quote'
             ELSE 'original' END AS kind_raw,
        CASE WHEN {rt} THEN retweet_tweetid WHEN {reply} THEN in_reply_to_tweetid
             WHEN {quote} THEN quoted_tweet_tweetid END AS ref_post_id,
        CASE WHEN {rt} THEN retweet_userid WHEN {reply} THEN in_reply_to_userid END AS ref_account_id,
        {X.bracket_list('urls')} AS urls, {X.bracket_list('hashtags')} AS hashtags,
        {X.bracket_list('user_mentions')} AS mentions,
        tweet_client_name AS client, 'twitter' AS platform, {_profile()},
        concat_ws(',', tweetid, userid, tweet_time, left(tweet_text, 300)) AS raw_line
    FROM {rows}
    """


def users_raw_sql(rows: str) -> str:
    return f"""
    SELECT source_row,
        NULL::VARCHAR AS post_id, userid AS account_id, '2000-01-01' AS time_raw,
        NULL::VARCHAR AS text, NULL::VARCHAR AS lang, 'original' AS kind_raw,
        NULL::VARCHAR AS ref_post_id, NULL::VARCHAR AS ref_account_id,
        []::VARCHAR[] AS urls, []::VARCHAR[] AS hashtags, []::VARCHAR[] AS mentions,
        NULL::VARCHAR AS client, 'twitter' AS platform, {_profile()},
        concat_ws(',', userid, user_screen_name) AS raw_line
    FROM {rows}
    """


def detect(header: list[str]) -> str | None:
    cols = [h.lower() for h in header]
    if cols[: len(TWEET_COLUMNS)] == list(TWEET_COLUMNS) or set(TWEET_COLUMNS) <= set(cols):
        return "io-archive"
    if set(USER_COLUMNS) <= set(cols) and "tweetid" not in cols:
        return "io-archive-users"
    return None


def source(path: str, display_name: str | None = None) -> RawSource:
    """A RawSource for one archive CSV (tweets or users), chosen by its header."""
    header = csvread.read_header(path)
    kind = detect(header)
    if kind is None:
        missing = [c for c in TWEET_COLUMNS if c not in [h.lower() for h in header]]
        raise InputError(
            f"not an information-operations archive CSV: missing columns {missing[:5]}",
            file=path, row=0, column=missing[0] if missing else None,
        )
    name = display_name or str(path)
    scan = csvread.scan_sql(path, header)
    build = tweets_raw_sql if kind == "io-archive" else users_raw_sql

    def setup(eng):
        csvread.reset_rejects(eng)
        drop_raw(eng)  # the file read before may have left a view or a table of that name
        read = [c for c in header if c.lower() in STAGED_COLUMNS]
        eng.execute(f"CREATE OR REPLACE TEMPORARY VIEW _raw AS {build(csvread.numbered(eng, scan, read))}")

    src = RawSource(file=name, format=kind, target="posts" if kind == "io-archive" else "accounts",
                    setup=setup, snowflake=True, derive_ids=False, collect=csvread.collect_rejects)
    return src
