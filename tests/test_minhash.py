"""Signatures equal datasketch's, bands behave like the S-curve, shingles ignore what reposts change."""

from __future__ import annotations

import random

import datasketch
import numpy as np
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from telechat_ptd.dedup.lsh import band_keys, band_params, collision_probability
from telechat_ptd.dedup.minhash import MinHasher, jaccard, span_hashes
from telechat_ptd.dedup.shingle import shingle_bytes, shingles

from .conftest import EN_ARTICLE, ZH_NEWS


def ours(text, hasher, n=5):
    s = shingle_bytes(text, n, n)
    return hasher.signature(s.utf8, s.starts, s.ends)


def theirs(text, hasher, n=5):
    m = datasketch.MinHash(num_perm=hasher.num_perm, seed=hasher.seed, scheme=hasher.scheme, hashfunc=hasher.hashfunc())
    m.update_batch([s.encode("utf-8") for s in shingles(text, n, n)])
    return m


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize("hash_name", ["xxh32", "sha1"])
def test_signatures_equal_datasketch(scheme, hash_name):
    hasher = MinHasher(num_perm=128, seed=7, scheme=scheme, hash=hash_name)
    for text in (ZH_NEWS, EN_ARTICLE, "短文", ZH_NEWS[:40] + EN_ARTICLE[:200]):
        assert (theirs(text, hasher).hashvalues.astype(np.uint32) == ours(text, hasher)).all()


def test_default_datasketch_minhash_is_the_sha1_setting():
    """MinHash() with no arguments is scheme affine32 with sha1_hash32."""
    m = datasketch.MinHash(num_perm=128)
    m.update_batch([s.encode() for s in shingles(ZH_NEWS, 5, 5)])
    assert (m.hashvalues == ours(ZH_NEWS, MinHasher(128, 1, "affine32", "sha1"))).all()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.integers(0, 2**31))
def test_signatures_equal_datasketch_on_any_text(text, seed):
    hasher = MinHasher(num_perm=16, seed=seed)
    expected = theirs(text, hasher).hashvalues.astype(np.uint32)
    assert (expected == ours(text, hasher)).all()


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80))
def test_xxh32_matches_the_library(data):
    buf = np.frombuffer(data, dtype=np.uint8)
    assert span_hashes(buf, np.array([0]), np.array([len(data)]))[0] == xxhash.xxh32_intdigest(data)


def test_lean_minhash_round_trip_and_jaccard():
    hasher = MinHasher()
    a, b = ours(ZH_NEWS, hasher), ours(ZH_NEWS[:300], hasher)
    lean_a = datasketch.LeanMinHash(seed=1, hashvalues=a, scheme="affine32")
    lean_b = datasketch.LeanMinHash(seed=1, hashvalues=b, scheme="affine32")
    restored = datasketch.LeanMinHash.deserialize(bytes(_serialize(lean_a)))
    assert (restored.hashvalues == a).all()
    assert lean_a.jaccard(lean_b) == pytest.approx(jaccard(a, b))
    lsh = datasketch.MinHashLSH(threshold=0.5, num_perm=128)
    lsh.insert("a", lean_a)
    assert lsh.query(lean_b) == ["a"]


def _serialize(lean):
    buf = bytearray(lean.bytesize())
    lean.serialize(buf)
    return buf


def test_band_collisions_follow_the_s_curve():
    """Pairs of sets with a known Jaccard collide in some band at 1 - (1 - s^r)^b."""
    bands, rows = band_params(0.7, 128)
    rng = random.Random(0)
    for s in (0.5, 0.7, 0.85):
        hits = 0
        trials = 300
        for t in range(trials):
            hasher = MinHasher(128, seed=t)
            common = int(200 * s)  # |A ∩ B| = common, |A ∪ B| = 200
            shared = [rng.getrandbits(32) for _ in range(common)]
            rest = [rng.getrandbits(32) for _ in range(200 - common)]
            half = len(rest) // 2
            sig_a = _sig(hasher, shared + rest[:half])
            sig_b = _sig(hasher, shared + rest[half:])
            hits += bool(set(band_keys(sig_a, bands, rows)) & set(band_keys(sig_b, bands, rows)))
        expected = collision_probability(common / 200, bands, rows)
        assert abs(hits / trials - expected) < 0.08, (s, hits / trials, expected)


def _sig(hasher, values):
    from telechat_ptd.dedup.minhash import _signature_affine32

    return _signature_affine32(np.array(values, dtype=np.uint32), hasher.a, hasher.b)


# --- shingles ------------------------------------------------------------------------------------


def test_reposting_changes_do_not_change_shingles():
    base = shingles("国务院新闻办公室今天举行发布会，介绍2023年经济运行情况。", 5, 5)
    for variant in (
        "國務院新聞辦公室今天舉行發佈會，介紹2023年經濟運行情況。",  # traditional
        "国务院新闻办公室今天举行发布会,介绍２０２３年经济运行情况.",  # width and punctuation
        "国务院 新闻办公室今天\n举行发布会——介绍2024年经济运行情况！",  # spaces, dashes, digits
    ):
        assert shingles(variant, 5, 5) == base
    assert shingles("The Council VOTED, on 12 May!", 2, 2) == shingles("the council voted on 99 may", 2, 2)


def test_unit_follows_script():
    assert shingle_bytes(ZH_NEWS, 5, 5).unit == "char"
    assert shingle_bytes(EN_ARTICLE, 5, 5).unit == "word"
    assert shingle_bytes(EN_ARTICLE, 5, 5, unit="char").unit == "char"
    assert shingles("短文", 5, 5) == ["短文"] and shingles("。！", 5, 5) == []
