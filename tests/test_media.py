import pytest

from tracekit import make_case, post
from unmask.errors import InputError
from unmask.media import amplification, statemedia


@pytest.mark.parametrize("url,domain", [
    ("https://www.presstv.ir/Detail/2018/1", "presstv.ir"), ("http://arabic.rt.com/news", "rt.com"),
    ("https://de.rt.com:443/a?utm_source=x", "rt.com"), ("https://news.bbc.co.uk:8080/x", "bbc.co.uk"),
    ("https://xn--80ak6aa92e.com/", "xn--80ak6aa92e.com"), ("https://пример.рф/путь", "xn--e1afmkfd.xn--p1ai"),
])
def test_registered_domains(url, domain):
    host = url.split("://", 1)[-1].split("/", 1)[0]
    assert statemedia.registered_domain(host) == domain


def test_bundled_list_has_attribution_and_outlets():
    media = statemedia.load()
    assert media["version"][0]["outlets"] == 1157
    assert media["domains"]["rt.com"]["country"] == "Russia"
    assert "presstv.ir" in media["domains"]


def test_update_validates_and_takes_over(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="URL"):
        statemedia.update(bad)
    good = tmp_path / "good.csv"
    good.write_text("Country,Media company,URL\nAtlantis,Atlantis TV,https://atlantis.tv/\n")
    statemedia.update(good)
    media = statemedia.load()
    assert list(media["domains"]) == ["atlantis.tv"] and media["version"][0]["outlets"] == 1


def test_shares_and_proxy_discovery(tmp_path):
    rows = []
    for i in range(4):
        rows.append(post(f"s{i}", f"op{i}", i, f"Minister lies about the port deal says agency {i}",
                         urls=[f"https://www.presstv.ir/Detail/{i}"]))
        rows.append(post(f"p{i}", f"op{i}", 100 + i, f"Minister lies about the port deal says agency {i}",
                         urls=[f"https://truthdaily-news.com/{i}"]))
    rows.append(post("x", "org", 5, "a normal link", urls=["https://example.org/"]))
    with make_case(tmp_path, rows) as case:
        case.write_table("clusters", __import__("pyarrow").table({
            "account_id": [f"op{i}" for i in range(4)], "cluster": [1] * 4, "cluster_size": [4] * 4,
            "is_candidate": [True] * 4, "status": ["coordinated"] * 4}))
        amplification.run(case)
        shares = {r["account_id"]: r["state_media_share"] for r in case.table("state_media_shares").to_pylist()}
        assert shares["op0"] == 0.5 and shares["org"] == 0.0
        proxies = case.table("proxy_domains").to_pylist()
        assert proxies[0]["domain"] == "truthdaily-news.com" and proxies[0]["copied_state_headlines"] == 4
        assert "example.org" not in {p["domain"] for p in proxies}


def test_shorteners_are_reported_not_guessed(tmp_path):
    rows = [post("a", "A", 0, "x", urls=["https://bit.ly/3abc"]), post("b", "A", 1, "y", urls=["https://t.co/zz"]),
            post("c", "A", 2, "z", urls=["https://sputniknews.com/x?utm_source=tw"])]
    with make_case(tmp_path, rows) as case:
        amplification.run(case)
        (row,) = case.table("state_media_shares").to_pylist()
    assert row["links"] == 3 and row["state_media_links"] == 1 and row["shortened_links"] == 2


def test_echo_lead_lag_of_a_state_outlets_own_posts(tmp_path):
    headline = "Western media hides the truth about the sanctions and the people suffer"
    rows = [post("s1", "cgtn_acct", 0, headline + " https://cgtn.com/x"),
            post("e1", "fast", 1800, headline), post("e2", "late", 3600 * 30, headline),
            post("e3", "early", -60, headline)]
    with make_case(tmp_path, rows) as case:
        case.engine.execute("UPDATE accounts SET handle = 'CGTN' WHERE account_id = 'cgtn_acct'")
        amplification.run(case)
        echoes = case.table("state_media_echoes").to_pylist()
    assert [(e["account_id"], e["lag_s"]) for e in echoes] == [("fast", 1800.0)]
