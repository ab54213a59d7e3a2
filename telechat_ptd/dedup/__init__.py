"""Deduplication cores (plain Python): exact text hashes; near-duplicate MinHash-LSH lands here."""
