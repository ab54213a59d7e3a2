"""`ptd download` against a hub on loopback, with the real huggingface_hub client."""

from __future__ import annotations

import base64
import gzip
import json
import random

import pytest

from fake_hub import FakeHub
from telechat_ptd.hub.download import DownloadError, download, parse_shards, safe_target, verify
from telechat_ptd.pipeline.cli import main

REPO = "Tele-AI/TeleChat-PTD"


def shard_bytes(n: int, docs: int = 400) -> bytes:
    rng = random.Random(n)
    chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
    lines = [json.dumps({"data": "".join(rng.choice(chars) for _ in range(rng.randint(50, 400)))}, ensure_ascii=False) for _ in range(docs)]
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


@pytest.fixture
def hub(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no token or cache of the user's
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    files = {f"data/{n}.jsonl.gz": shard_bytes(n) for n in range(3)}
    files["README.md"] = b"# fake\n"
    with FakeHub(REPO, files) as server:
        yield server


def test_parse_shards_and_safe_names(tmp_path):
    assert parse_shards("0-3,17, 2") == [0, 1, 2, 3, 17]
    with pytest.raises(DownloadError, match="backwards"):
        parse_shards("5-3")
    with pytest.raises(DownloadError, match="cannot read 'x'"):
        parse_shards("1,x")
    assert safe_target(tmp_path, "data/0.jsonl.gz") == (tmp_path / "data" / "0.jsonl.gz").resolve()
    for name in ["../x.gz", "data/../../x.gz", "/etc/passwd", "data\\..\\x", "C:/x", "a\x00b", ""]:
        with pytest.raises(DownloadError, match="refused"):
            safe_target(tmp_path, name)


def test_download_verifies_and_skips_verified_shards(hub, tmp_path):
    out = tmp_path / "ptd"
    report = download(out, [0, 2], endpoint=hub.url, log=lambda *_: None)
    assert sorted(p.name for p in report.downloaded) == ["0.jsonl.gz", "2.jsonl.gz"]
    for n in (0, 2):
        assert (out / "data" / f"{n}.jsonl.gz").read_bytes() == hub.files[f"data/{n}.jsonl.gz"]
    assert not (out / "data" / "1.jsonl.gz").exists()
    gets = len([r for r in hub.requests if r[0] == "GET"])
    again = download(out, [0, 2], endpoint=hub.url, log=lambda *_: None)
    assert len(again.already_there) == 2 and not again.downloaded
    assert len([r for r in hub.requests if r[0] == "GET"]) == gets + 1  # only the listing


def test_a_cut_transfer_is_resumed_with_a_range_request(hub, tmp_path):
    # The client writes 10 MiB chunks: a shard of ~24 MB cut halfway has a chunk on disk to resume from.
    rng = random.Random(3)
    lines = (json.dumps({"data": base64.b64encode(rng.randbytes(300)).decode()}) for _ in range(80_000))
    big = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1, mtime=0)
    assert len(big) > 20 * 2**20
    hub.files["data/1.jsonl.gz"] = big
    hub.cut_once.add("data/1.jsonl.gz")
    report = download(tmp_path / "ptd", [1], endpoint=hub.url, log=lambda *_: None)
    assert not report.failed
    assert (tmp_path / "ptd" / "data" / "1.jsonl.gz").read_bytes() == big
    gets = [r for m, p, r in hub.requests if m == "GET" and p.endswith("data/1.jsonl.gz")]
    assert len(gets) == 2 and gets[0] is None
    assert gets[1].startswith("bytes=") and int(gets[1][6:].split("-")[0]) >= 10 * 2**20  # resumed, not restarted


def test_a_corrupt_shard_is_detected_and_set_aside(hub, tmp_path):
    good = bytearray(hub.files["data/1.jsonl.gz"])
    good[len(good) // 2] ^= 0xFF  # same size, one byte flipped
    hub.served["data/1.jsonl.gz"] = bytes(good)
    logs = []
    report = download(tmp_path / "ptd", [0, 1], endpoint=hub.url, log=logs.append)
    assert list(report.failed) == ["data/1.jsonl.gz"]
    assert "sha256" in report.failed["data/1.jsonl.gz"] or "corrupt gzip" in report.failed["data/1.jsonl.gz"]
    assert (tmp_path / "ptd" / "data" / "1.jsonl.gz.corrupt").exists()
    assert not (tmp_path / "ptd" / "data" / "1.jsonl.gz").exists()
    assert [p.name for p in report.downloaded] == ["0.jsonl.gz"]
    assert any("FAILED" in line for line in logs)


def test_gzip_check_without_a_checksum(tmp_path):
    data = shard_bytes(5)
    (tmp_path / "ok.gz").write_bytes(data + shard_bytes(6))  # two members
    verify(tmp_path / "ok.gz", None, None)
    (tmp_path / "cut.gz").write_bytes(data[:-100])
    with pytest.raises(DownloadError, match="truncated"):
        verify(tmp_path / "cut.gz", None, None)
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    (tmp_path / "bad.gz").write_bytes(bytes(bad))
    with pytest.raises(DownloadError, match="corrupt gzip"):
        verify(tmp_path / "bad.gz", None, None)
    with pytest.raises(DownloadError, match="the hub says"):
        verify(tmp_path / "ok.gz", 10, None)


def test_hostile_names_from_the_server_are_refused(hub, tmp_path):
    hub.extra_listing += ["data/../../evil.jsonl.gz", "data/../../../tmp/evil2.jsonl.gz"]
    out = tmp_path / "deep" / "ptd"
    report = download(out, None, endpoint=hub.url, log=lambda *_: None)
    assert sorted(report.refused) == sorted(hub.extra_listing)
    assert sorted(p.name for p in report.downloaded) == ["0.jsonl.gz", "1.jsonl.gz", "2.jsonl.gz"]
    assert not list(tmp_path.rglob("evil*"))
    assert all(out.resolve() in p.resolve().parents for p in out.rglob("*"))


def test_missing_shard_and_unreachable_hub_are_clear_errors(hub, tmp_path, capsys):
    with pytest.raises(DownloadError, match=r"shard\(s\) 7,9-10 not in Tele-AI/TeleChat-PTD@main; it has shards 0-2"):
        download(tmp_path / "ptd", [0, 7, 9, 10], endpoint=hub.url, log=lambda *_: None)
    with pytest.raises(DownloadError, match="cannot reach the hub at http://127.0.0.1:9"):
        download(tmp_path / "ptd", [0], endpoint="http://127.0.0.1:9", log=lambda *_: None)
    assert main(["download", "-o", str(tmp_path / "cli"), "--shards", "0-1", "--endpoint", hub.url]) == 0
    assert (tmp_path / "cli" / "data" / "1.jsonl.gz").exists()
    assert main(["download", "-o", str(tmp_path / "cli"), "--shards", "5", "--endpoint", hub.url]) == 2
    assert "shard(s) 5 not in" in capsys.readouterr().err
