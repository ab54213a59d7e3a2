"""Documents packed for shuffles: lossless for any record, smaller than the pickle Beam would
otherwise carry, and safe from Beam's worker threads."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from telechat_ptd.corpora import peoples_daily_articles
from telechat_ptd.pipeline.packed import compress, decompress, pack, unpack

_values = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
records = st.fixed_dictionaries(
    {"id": st.text(min_size=1), "source": st.sampled_from(["web", "book", "news"]), "text": st.text()},
    optional={
        "lang": st.sampled_from(["zh", "en", None]),
        "signals": st.dictionaries(st.text(max_size=12), st.floats(allow_nan=False), max_size=5),
        "scores": st.dictionaries(st.text(max_size=12), _values, max_size=5),
        "duplicate_of": st.text(),
        "similarity": st.floats(0, 1),
    },
)


@settings(max_examples=300)
@given(records)
def test_pack_round_trips_any_record(record):
    assert unpack(pack(record)) == record


@given(st.binary())
def test_compress_round_trips_bytes(data):
    assert decompress(compress(data)) == data


def test_lone_surrogates_and_astral_text_survive():
    # Normalization replaces lone surrogates, but a record may cross a shuffle before it
    # (exact dedup of raw text with normalization off).
    record = {"id": "a", "source": "web", "text": "坏\ud800字 😀 𠀀"}
    assert unpack(pack(record)) == record


def test_packed_chinese_news_is_smaller_than_its_pickle():
    articles = [{"id": str(i), "source": "news", "text": t} for i, t in enumerate(peoples_daily_articles()[:300])]
    pickled = sum(len(pickle.dumps(a, protocol=pickle.HIGHEST_PROTOCOL)) for a in articles)
    packed = sum(len(pack(a)) for a in articles)
    assert packed < 0.8 * pickled, (packed, pickled)


def test_threads_pack_and_unpack_independently():
    """Beam's multi_threading workers run DoFns in several threads; zstd contexts are
    per thread, so concurrent calls never share one."""
    articles = peoples_daily_articles()[:64]

    def work(i):
        record = {"id": str(i), "source": "news", "text": articles[i % len(articles)] * (1 + i % 3)}
        return all(unpack(pack(record)) == record for _ in range(50))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(64)))
