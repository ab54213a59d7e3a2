"""Beam wiring: config, IO, the clean/annotate/dedup graphs, accounting and the CLI."""
