"""The simulator's knobs: one declared table gives defaults, help, the CLI flags and the docs."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields

from unmask.errors import ParameterError

STYLES = ("co_retweet_ring", "copypasta", "hashtag_flood", "link_laundering", "reply_attack", "expert_boost")
OPEN_STYLES = ("fan_army", "tweetstorm", "volunteers", "newsroom")
PERSONA_KINDS = ("covert", "honest")


def knob(default, help, lo=None, hi=None):
    meta = {"help": help, "lo": lo, "hi": hi}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class SimConfig:
    """Every knob of ``unmask simulate``; see :func:`knob_table` for the documented list."""

    posts: int = knob(20_000, "total posts to write", 100, 50_000_000)
    seed: int = knob(7, "random seed; the same seed and knobs give byte-identical files")
    accounts: int = knob(0, "organic accounts (0 = posts / 25)", 0, 5_000_000)
    days: int = knob(30, "length of the period in days", 2, 3650)
    start: str = knob("2018-03-01", "first day of the period (UTC date)")
    operations: int = knob(6, "number of planted operations", 0, 200)
    op_min_size: int = knob(10, "smallest operation, in accounts", 3, 500)
    op_max_size: int = knob(40, "largest operation, in accounts", 3, 500)
    op_share: float = knob(0.10, "share of all posts written by operations", 0.0, 0.9)
    styles: list = knob(list(STYLES), "coordination styles, assigned to operations in turn")
    operator_zones: list = knob(["Asia/Tehran", "Europe/Moscow", "Asia/Shanghai", "Europe/Tirane", "Asia/Tehran", "Europe/Moscow"],
                                "IANA zones operators work from, assigned in turn")
    filler_share: float = knob(0.35, "share of an operation account's posts that are organic-looking filler", 0, 0.95)
    dormant_share: float = knob(0.1, "share of operation accounts that post almost nothing", 0, 0.9)
    viral_cascades: int = knob(12, "viral posts retweeted by a crowd within minutes (hard negative)", 0, 10_000)
    cascade_size: float = knob(0.05, "share of organic accounts in each viral cascade", 0, 1)
    hashtag_bursts: int = knob(8, "hashtag-activism bursts (hard negative)", 0, 10_000)
    share_buttons: int = knob(10, "news share-button waves: same headline and URL (hard negative)", 0, 10_000)
    benign_bots: int = knob(6, "scheduled benign bots: weather, news feeds (hard negative)", 0, 10_000)
    reply_storms: int = knob(4, "reply storms at celebrities (hard negative)", 0, 10_000)
    fan_bases: int = knob(8, "popular accounts (news outlets, public figures) with audiences of regulars who "
                                "retweet them: organic, not coordination (hard negative)", 0, 10_000)
    fan_base_size: float = knob(0.08, "regulars per popular account, as a share of organic accounts", 0, 1)
    fan_retweet_prob: float = knob(0.2, "mean probability that a regular retweets a given post of the account "
                                        "it follows", 0.001, 1)
    fan_delay_s: float = knob(60.0, "median seconds from a popular account's post to a regular's retweet", 1, 86_400)
    fan_delay_spread: float = knob(0.0, "spread (log-normal sigma) of each regular's own median reaction time around "
                                        "fan_delay_s: superfans with notifications on retweet within seconds, others "
                                        "hours later; 0 gives every regular of an audience the same distribution", 0, 5)
    scheduler_share: float = knob(0.0, "share of organic accounts that post their originals through a scheduling "
                                       "tool, on the quarter hour to the second: many independent accounts then "
                                       "post at the same second (hard negative; 0 leaves the files unchanged)", 0, 1)
    fan_share: float = knob(0.15, "share of all posts that are regulars' retweets of popular accounts", 0, 0.9)
    open_campaigns: int = knob(3, "open campaigns: organic communities that coordinate openly and as strongly as an "
                                  "operation (fan army, activist tweetstorm, campaign volunteers, newsroom, in turn); organic, "
                                  "role open_campaign (hard negative)", 0, 200)
    open_campaign_size: int = knob(30, "accounts per open campaign", 3, 5_000)
    open_campaign_styles: list = knob(list(OPEN_STYLES), "open-campaign styles, assigned to campaigns in turn")
    operation_personas: str = knob("covert", "how operations present themselves: covert (personas that do not fit "
                                             "the operators: foreign claims, office hours, batch creation, shared "
                                             "tools) or honest (a test of the covertness assessment)")
    open_campaign_personas: str = knob("honest", "how open campaigns present themselves: honest (their own zones, "
                                                 "human rhythm, spread creation, common apps) or covert")
    traveller_share: float = knob(0.03, "organic accounts posting from a zone other than their profile's", 0, 0.5)
    link_share: float = knob(0.15, "share of organic original posts that carry a news link", 0, 1)
    negative_strength: float = knob(1.0, "multiplier on the size of every hard negative", 0, 20)
    technique_share: float = knob(0.0, "share of operation accounts' English original posts that carry a planted "
                                       "propaganda-technique sentence (0 leaves the files unchanged)", 0, 1)

    def __post_init__(self):
        for f in fields(self):
            v, lo, hi = getattr(self, f.name), f.metadata.get("lo"), f.metadata.get("hi")
            if lo is not None and not (lo <= v <= hi):
                raise ParameterError(f"simulate: {f.name}={v} is outside {lo}..{hi}")
        bad = [s for s in self.styles if s not in STYLES]
        if bad:
            raise ParameterError(f"simulate: unknown style(s) {bad}; choose from {list(STYLES)}")
        bad = [s for s in self.open_campaign_styles if s not in OPEN_STYLES]
        if bad:
            raise ParameterError(f"simulate: unknown open-campaign style(s) {bad}; choose from {list(OPEN_STYLES)}")
        for name in ("operation_personas", "open_campaign_personas"):
            if getattr(self, name) not in PERSONA_KINDS:
                raise ParameterError(f"simulate: {name}={getattr(self, name)!r}; choose from {list(PERSONA_KINDS)}")
        if self.op_min_size > self.op_max_size:
            raise ParameterError("simulate: op_min_size must not exceed op_max_size")

    @property
    def n_accounts(self) -> int:
        return self.accounts or max(50, self.posts // 25)

    @classmethod
    def from_knobs(cls, knobs: dict, source: str = "simulate"):
        """A configuration from named knobs; an unknown name is refused with the names that exist."""
        cls._refuse_unknown(knobs, source)
        return cls(**knobs)

    @classmethod
    def _refuse_unknown(cls, knobs: dict, source: str) -> None:
        unknown = set(knobs) - {f.name for f in fields(cls)}
        if unknown:
            raise ParameterError(f"{source}: unknown simulator knob(s) {sorted(unknown)}; knobs are "
                                 f"{sorted(f.name for f in fields(cls))}")

    @classmethod
    def from_toml(cls, path, **overrides):
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        data = data.get("simulate", data)
        cls._refuse_unknown(data, str(path))
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_knobs(data, f"{path} or --set")


def knob_table() -> list[tuple[str, object, str]]:
    """(name, default, help) for every knob, for the CLI and the README."""
    out = []
    for f in fields(SimConfig):
        default = f.default if f.default_factory is __import__("dataclasses").MISSING else f.default_factory()
        out.append((f.name, default, f.metadata["help"]))
    return out
