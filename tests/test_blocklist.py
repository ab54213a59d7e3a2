"""URL / domain blocklists: subdomain rules, www, URL prefixes, loading, pickling."""

from __future__ import annotations

import io
import pickle
import tarfile
from importlib.util import find_spec

import pytest

from telechat_ptd.safety.blocklist import (
    Blocklist,
    BlocklistConfig,
    BlocklistError,
    _datatrove_tarball,
    decide,
    split_url,
)


@pytest.fixture
def bl():
    return Blocklist(
        domains={"adult": ["example.com", "www.porn.test", "# comment"], "gambling": ["bet.test"]},
        urls={"phishing": ["https://hosting.test/evil", "www.Forum.test/board/spam"]},
    )


def test_subdomains_blocked_lookalikes_not(bl):
    assert bl.category("http://example.com/") == "adult"
    assert bl.category("https://a.b.example.com/x?y=1") == "adult"
    assert bl.category("https://notexample.com/") is None
    assert bl.category("https://example.com.evil.test/") is None
    assert bl.category("https://EXAMPLE.com:8080/") == "adult"
    assert bl.category("https://user@bet.test/") == "gambling"


def test_www_dropped_on_both_sides(bl):
    assert bl.category("http://porn.test/") == "adult"
    assert bl.category("http://www.porn.test/") == "adult"
    assert bl.category("http://www.example.com/") == "adult"


def test_url_entries_match_by_prefix(bl):
    assert bl.category("http://hosting.test/evil") == "phishing"
    assert bl.category("https://hosting.test/evil/page.html#top") == "phishing"
    assert bl.category("https://hosting.test/good") is None
    assert bl.category("https://www.forum.test/board/spam?id=3") == "phishing"
    assert bl.category("https://forum.test/board/") is None
    assert bl.category("https://sub.hosting.test/evil") is None  # URL entries are per host


def test_signals_and_decide(bl):
    assert bl.signals(None) == {} and bl.signals("") == {}
    sig = bl.signals("https://a.example.com/")
    assert sig == {"url_blocked": 1, "url_blocklist_category": "adult"}
    assert decide(sig)[0] == "url_blocklist_adult"
    clean = bl.signals("https://ok.test/")
    assert clean["url_blocked"] == 0 and decide(clean) == (None, None)


def test_split_url():
    assert split_url("HTTPS://www.A.com:443/P/q?x#f") == ("a.com", "/P/q?x")
    assert split_url("a.com") == ("a.com", "")


def _ut1_tree(root):
    for cat, domains, urls in [("adult", "porn.test\n", "host.test/adult\n"), ("gambling", "bet.test\n", "")]:
        (root / cat).mkdir(parents=True)
        (root / cat / "domains").write_text(domains)
        (root / cat / "urls").write_text(urls)


def test_folder_and_tarball_loading(tmp_path):
    _ut1_tree(tmp_path / "blacklists")
    tgz = tmp_path / "ut1.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(tmp_path / "blacklists", arcname="blacklists")
    for source in (str(tmp_path / "blacklists"), str(tgz)):
        bl = Blocklist.from_config(BlocklistConfig(paths=[source]))
        assert bl.category("http://x.porn.test/") == "adult"
        assert bl.category("http://bet.test/") == "gambling"
        assert bl.category("http://host.test/adult/1") == "adult"
        only = Blocklist.from_config(BlocklistConfig(paths=[source], categories=["gambling"]))
        assert only.category("http://porn.test/") is None and only.category("http://bet.test/")


def test_flat_tarball_takes_source_category(tmp_path):
    tgz = tmp_path / "mylist.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        data = b"spam.test\n"
        info = tarfile.TarInfo("domains")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert Blocklist.from_config(BlocklistConfig(paths=[str(tgz)])).category("http://spam.test") == "mylist"
    named = Blocklist.from_config(BlocklistConfig(paths=[f"spam={tgz}"]))
    assert named.category("http://a.spam.test") == "spam"


def test_bad_sources(tmp_path):
    with pytest.raises(BlocklistError, match="not found"):
        Blocklist.from_config(BlocklistConfig(paths=[str(tmp_path / "nope")])).category("http://a.b")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BlocklistError, match="no 'domains'"):
        Blocklist.from_config(BlocklistConfig(paths=[str(tmp_path / "empty")])).category("http://a.b")
    with pytest.raises(ValueError):
        BlocklistConfig(bogus=True)


def test_pickle_round_trip(tmp_path, bl):
    clone = pickle.loads(pickle.dumps(bl))
    assert clone.category("http://a.example.com") == "adult"
    _ut1_tree(tmp_path / "bl")
    lazy = Blocklist.from_config(BlocklistConfig(paths=[str(tmp_path / "bl")]))
    payload = pickle.dumps(lazy)
    assert b"porn.test" not in payload  # ships the config, loads on the worker
    assert pickle.loads(payload).category("http://porn.test") == "adult"


@pytest.mark.skipif(find_spec("datatrove") is None, reason="datatrove not installed (the bench extra ships its UT1 list)")
def test_datatrove_asset():
    with tarfile.open(_datatrove_tarball()) as tar:
        assert {"domains", "urls"} <= set(tar.getnames())
    bl = Blocklist.from_config(BlocklistConfig(paths=["ut1:datatrove"]))
    assert bl.n_domains > 1_000_000
    assert bl.category("http://www.0-1avsex.com/") == "datatrove"  # first line of its domains file
    assert bl.category("http://sub.0-1avsex.com/x") == "datatrove"
    assert bl.category("https://www.wikipedia.org/wiki/Main_Page") is None


def test_datatrove_missing_errors_clearly(monkeypatch):
    import telechat_ptd.safety.blocklist as mod

    monkeypatch.setattr(mod, "find_spec", lambda name: None)
    with pytest.raises(BlocklistError, match="needs the datatrove package"):
        Blocklist.from_config(BlocklistConfig(paths=["ut1:datatrove"])).category("http://a.b")
