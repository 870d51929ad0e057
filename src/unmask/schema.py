"""The canonical tables of a case, versioned in one place.

Bump :data:`SCHEMA_VERSION` whenever a table below changes shape; a case written by
another version is refused with advice (see :mod:`unmask.store`).
"""

SCHEMA_VERSION = 4

POSTS = """
CREATE TABLE IF NOT EXISTS posts (
    post_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,      -- UTC
    time_precision VARCHAR,             -- 'ms' (from a snowflake id), 's' or 'minute'
    text VARCHAR,
    lang VARCHAR,
    kind VARCHAR NOT NULL,              -- original / retweet / reply / quote
    ref_post_id VARCHAR,                -- retweeted, replied-to or quoted post ('text:<md5>' when derived)
    ref_account_id VARCHAR,
    urls VARCHAR[],
    domains VARCHAR[],
    hashtags VARCHAR[],
    mentions VARCHAR[],
    client VARCHAR,
    platform VARCHAR,
    source_file VARCHAR,
    source_row BIGINT,
    text_hash VARCHAR,                  -- md5 of the normalised text (co_text's key), set at ingest
    text_len INTEGER                    -- length of the normalised text
)"""

POST_LINKS = """
CREATE TABLE IF NOT EXISTS post_links (
    post_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    t BIGINT NOT NULL,                  -- the post's created_at in epoch ms
    kind VARCHAR NOT NULL,
    link_key VARCHAR NOT NULL           -- one of the post's urls normalised for co_link, set at ingest
)"""

ACCOUNTS = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id VARCHAR NOT NULL,
    handle VARCHAR,
    display_name VARCHAR,
    description VARCHAR,
    reported_location VARCHAR,
    profile_url VARCHAR,
    created_at TIMESTAMP,
    followers BIGINT,
    following BIGINT,
    account_language VARCHAR,
    is_hashed BOOLEAN
)"""

PROVENANCE = """
CREATE TABLE IF NOT EXISTS provenance (
    ingest_id INTEGER,
    file VARCHAR,
    sha256 VARCHAR,
    format VARCHAR,
    mapping VARCHAR,                    -- JSON
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_rejected BIGINT,
    rows_duplicate BIGINT,              -- loaded rows whose post was already in the case
    ingested_at TIMESTAMP,
    unmask_version VARCHAR
)"""

REJECTS = """
CREATE TABLE IF NOT EXISTS rejects (
    ingest_id INTEGER,
    file VARCHAR,
    "row" BIGINT,
    "column" VARCHAR,
    reason VARCHAR,
    raw VARCHAR                         -- the raw line, truncated
)"""

META = "CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR)"

CORE_TABLES = (POSTS, POST_LINKS, ACCOUNTS, PROVENANCE, REJECTS, META)

# What a trace reads: an engine other than the case's own DuckDB is given these tables.
INPUT_TABLES = ("posts", "post_links")
INPUT_DDL = {"posts": POSTS, "post_links": POST_LINKS}
# The Parquet layout of a case partitions each input table by this column (hive style), so that a
# trace that reads one kind of post (retweets, replies, originals) reads only its own files.
PARTITION_COLUMN = "kind"


def input_ddl(name: str, as_name: str) -> str:
    """The DDL of input table ``name``, creating a table called ``as_name`` of the same shape."""
    return INPUT_DDL[name].replace(f"EXISTS {name} (", f"EXISTS {as_name} (", 1)

POST_COLUMNS = (
    "post_id", "account_id", "created_at", "time_precision", "text", "lang", "kind",
    "ref_post_id", "ref_account_id", "urls", "domains", "hashtags", "mentions", "client",
    "platform", "source_file", "source_row", "text_hash", "text_len",
)
ACCOUNT_COLUMNS = (
    "account_id", "handle", "display_name", "description", "reported_location", "profile_url",
    "created_at", "followers", "following", "account_language", "is_hashed",
)
KINDS = ("original", "retweet", "reply", "quote")
# clusters.status of members of a network that passed the group tests: "coordinated" after analyse,
# then "flagged" (covert) or "open" after the checks' covertness assessment
COORDINATED = "status IN ('coordinated', 'flagged', 'open')"
