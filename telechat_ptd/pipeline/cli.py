"""The ``ptd`` command line.

``ptd clean|annotate|dedup INPUT... -o OUT [--config F] [--set k=v ...] [-- BEAM_OPTIONS]``:
everything after ``--`` goes to the Beam runner untouched.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from importlib import import_module

# Beam logs a warning about optional GCP clients at import time, before any handler is set.
logging.getLogger().addFilter(lambda record: "apitools not found" not in record.getMessage())

EPILOG = """\
Beam options go after a lone '--', e.g.
  ptd clean raw/*.jsonl.gz -o out -- --runner=DirectRunner --direct_running_mode=multi_processing
Config keys are listed by 'ptd config'; override any of them with --set KEY=VALUE
(the value is YAML: 300, 0.25, null, true, [zh, en])."""


# Subcommands defined next to the code they run (add_parsers + HANDLERS), imported when used.
TRAINING_MODULES = {
    "telechat_ptd.training.commands": ("train-tokenizer", "pack", "fit-prior", "train-lm"),
    "telechat_ptd.scorers.commands": ("train-kenlm", "train-fasttext", "train-classifier"),
}


def _training_command(module: str, name: str):
    def run(args) -> int:
        return import_module(module).HANDLERS[name](args)

    return run


TRAINING_COMMANDS = {name: _training_command(module, name) for module, names in TRAINING_MODULES.items() for name in names}


def _split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1 :]
    return argv, []


def _add_config_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration")
    g.add_argument("--config", metavar="FILE", help="YAML file overriding the packaged defaults.yaml")
    g.add_argument(
        "--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
        help="override one config key, e.g. --set filters.zh.min_chars=300 (repeatable)",
    )


def _add_job_options(p: argparse.ArgumentParser, inputs_optional: bool = False) -> None:
    p.add_argument(
        "inputs", nargs="*" if inputs_optional else "+", metavar="INPUT",
        help="files, globs or directories: .jsonl/.json/.txt (optionally .gz/.zst) and .parquet; "
        "local paths or any Beam filesystem (gs://, s3://, hdfs://)"
        + ("; none = the embedded sample corpus (see 'ptd sample')" if inputs_optional else ""),
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output directory (replaced shards are overwritten)")
    _add_config_options(p)
    g = p.add_argument_group("shortcuts for common --set keys")
    g.add_argument("--source", help="source tag for inputs no read.sources glob matches (read.default_source)")
    g.add_argument("--text-field", action="append", metavar="FIELD", help="JSON/parquet field holding the text (read.text_fields; repeatable)")
    g.add_argument("--txt-mode", choices=["line", "file"], help="plain text: a line is a document, or a file is (read.txt_mode)")
    g.add_argument("--compression", choices=["gz", "zst", "none"], help="shard compression (output.compression)")
    g.add_argument("--num-shards", type=int, metavar="N", help="fixed number of output shards (output.num_shards)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress log, only the summary")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ptd", description="Clean raw Chinese and English text into TeleChat-PTD shards on Apache Beam.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("clean", help="normalize, filter, dedup and write TeleChat-PTD shards", epilog=EPILOG, formatter_class=fmt,
                       description="Writes OUT/data/<n>.jsonl.gz ({\"data\": text} per line), OUT/rejected/, OUT/errors/ and OUT/stats.json.")
    _add_job_options(p, inputs_optional=True)
    p = sub.add_parser("annotate", help="write every signal and decision per document to parquet", epilog=EPILOG, formatter_class=fmt,
                       description="Writes OUT/signals/<n>.parquet: id, source, lang, decision, stage, detail, duplicate_of, similarity, score, "
                       "one column per signal, text; and OUT/config.yaml. notebooks/retune_filters.ipynb retunes thresholds from it.")
    _add_job_options(p, inputs_optional=True)
    p = sub.add_parser("dedup", help="exact and near-duplicate removal only (normalization on, filters off)", epilog=EPILOG,
                       formatter_class=fmt, description="Same output layout as 'clean', plus OUT/minhash/ (the signature index).")
    _add_job_options(p)
    p = sub.add_parser("sample", help="write the embedded sample corpus (real text plus web noise)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--seed", type=int, default=20231128, help="random seed (the corpus is deterministic for a seed)")
    p = sub.add_parser("download", help="fetch TeleChat-PTD shards from the Hugging Face hub, verified", formatter_class=fmt,
                       description="Downloads data/<n>.jsonl.gz of the TeleChat-PTD dataset into OUT/data/ with huggingface_hub: "
                       "progress bars, resumption of interrupted transfers, each shard checked against the hub's size and "
                       "sha256 and read through gzip; a corrupt shard is moved to <name>.corrupt. Tokens come from HF_TOKEN "
                       "or `hf auth login`.")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="download folder (shards land in DIR/data/)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--shards", metavar="LIST", help="shard numbers and ranges, e.g. 0-3,17 (the dataset has 0-188)")
    which.add_argument("--all", action="store_true", help="every shard the repository lists")
    p.add_argument("--revision", default="main", help="branch, tag or commit (default main)")
    p.add_argument("--endpoint", metavar="URL", help="hub endpoint or mirror (default $HF_ENDPOINT, else https://huggingface.co)")
    p.add_argument("--repo", default="Tele-AI/TeleChat-PTD", metavar="ID", help="dataset repository (default Tele-AI/TeleChat-PTD)")
    p = sub.add_parser("inspect", help="statistics and an HTML report of TeleChat-PTD shards", formatter_class=fmt,
                       description="Streams .jsonl / .jsonl.gz / .jsonl.zst shards (files, directories or globs), one process per "
                       "file: documents, characters, bytes, length and Chinese-share histograms, exact duplicates and schema "
                       "violations (lines not {\"data\": str}, with file and line) over every document; language mix, top "
                       "characters and n-grams, PII and near duplicates over a random sample.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="shard files, directories or globs")
    p.add_argument("--sample", type=int, default=5, metavar="N", help="random documents to show (default 5)")
    p.add_argument("--analysis-docs", type=int, default=2000, metavar="M",
                   help="size of the random sample for language, n-grams, PII, near duplicates and --annotate (default 2000)")
    p.add_argument("--report", metavar="FILE", help="also write a self-contained HTML report (figures embedded)")
    p.add_argument("--annotate", action="store_true", help="run our normalization and filters (the config below) on the sample "
                   "and show what they would drop and why")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="K", help="processes (default: all cores)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-file progress lines")
    _add_config_options(p)
    for module in TRAINING_MODULES:
        import_module(module).add_parsers(sub, fmt)
    p = sub.add_parser("config", help="print the effective configuration as YAML")
    _add_config_options(p)
    return parser


def _shortcut_overrides(args) -> list[str]:
    import json

    sets = []
    if getattr(args, "source", None):
        sets.append(f"read.default_source={json.dumps(args.source)}")
    if getattr(args, "text_field", None):
        sets.append(f"read.text_fields={json.dumps(args.text_field)}")
    if getattr(args, "txt_mode", None):
        sets.append(f"read.txt_mode={args.txt_mode}")
    if getattr(args, "compression", None):
        sets.append(f"output.compression={args.compression}")
    if getattr(args, "num_shards", None) is not None:
        sets.append(f"output.num_shards={args.num_shards}")
    return sets


def _configure_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("telechat_ptd").setLevel(logging.WARNING if quiet else logging.INFO)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def run_job(mode: str, inputs: list[str], output: str, config: str | None, overrides: list[str], beam_args: list[str]) -> dict:
    """Run one job and return its stats (also used by tests and benchmarks)."""
    import json

    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from telechat_ptd.pipeline import graph
    from telechat_ptd.pipeline.config import load_config, to_yaml
    from telechat_ptd.pipeline.inputs import expand_inputs
    from telechat_ptd.pipeline.paths import for_workers

    cfg = load_config(config, overrides)
    files = expand_inputs(inputs)
    options = PipelineOptions(beam_args or ["--runner=DirectRunner"])
    cfg, output = for_workers(cfg, output, files, options.view_as(StandardOptions).runner)
    _prepare_direct(options, files)
    with beam.Pipeline(options=options) as pipeline:
        graph.build(pipeline, mode, files, cfg, output)
    # The effective config beside the output: a notebook retunes from the thresholds that
    # actually produced it, and a rerun can reproduce it.
    with FileSystems.create(FileSystems.join(output, "config.yaml")) as f:
        f.write(to_yaml(cfg).encode())
    with FileSystems.open(FileSystems.join(output, "stats.json")) as f:
        return json.loads(f.read())


# Compressed input above which the DirectRunner is warned about: its launcher process held
# 4.6 GiB for 250,000 web documents (513 MB of jsonl.gz) and 7.3 GiB for 500,000, every stage on.
DIRECT_RUNNER_WARN_BYTES = 256 << 20


def _prepare_direct(options, files: list[tuple[str, int]]) -> None:
    """Beam's DirectRunner runs the job in this process (the FnApiRunner). Its data plane drops
    elements of large stage inputs (runners/fnapi_data_plane.py patches that), and it keeps every
    shuffle in this process's memory, so a large input is warned about when the job starts."""
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    from telechat_ptd.runners import fnapi_data_plane

    runner = (options.view_as(StandardOptions).runner or "DirectRunner").rsplit(".", 1)[-1]
    if runner not in ("DirectRunner", "BundleBasedDirectRunner", "FnApiRunner"):
        return
    fnapi_data_plane.install()
    size = sum(n for _, n in files)
    if size > DIRECT_RUNNER_WARN_BYTES:
        logging.getLogger(__name__).warning(
            "DirectRunner on %.0f MB of input (direct_num_workers=%s): it holds every shuffle in this process's "
            "memory (4.6 GiB for 513 MB of jsonl.gz, 7.3 GiB for 1 GB, every stage on). Use Dask, Flink or Dataflow for inputs "
            "this size (README: Running at scale).",
            size / 1e6, options.view_as(DirectOptions).direct_num_workers)


def _download(args) -> int:
    from telechat_ptd.hub.download import DownloadError, download, parse_shards

    try:
        shards = None if args.all else parse_shards(args.shards)
        report = download(args.output, shards, args.revision, args.endpoint, repo_id=args.repo)
    except DownloadError as exc:
        print(f"ptd: error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(report.downloaded)} downloaded, {len(report.already_there)} already there, "
          f"{len(report.failed)} failed, {len(report.refused)} names refused; in {args.output}/data")
    for path, why in report.failed.items():
        print(f"ptd: {path}: {why}", file=sys.stderr)
    return 1 if report.failed else 0


def _inspect(args) -> int:
    from pathlib import Path

    from telechat_ptd.inspect.analyze import inspect_files
    from telechat_ptd.inspect.report import html_report, print_report
    from telechat_ptd.inspect.scan import ScanOptions
    from telechat_ptd.pipeline.config import load_config

    cfg = load_config(args.config, args.overrides)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    try:
        result = inspect_files(args.paths, cfg, ScanOptions(args.analysis_docs, seed=args.seed), max(1, args.workers),
                               args.sample, args.annotate, log)
    except FileNotFoundError as exc:
        print(f"ptd: error: {exc}", file=sys.stderr)
        return 2
    print_report(result)
    if args.report:
        Path(args.report).write_text(html_report(result), encoding="utf-8")
        print(f"report: {args.report}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, beam_args = _split_beam_args(argv)
    args = build_parser().parse_args(ours)
    from telechat_ptd.pipeline.config import ConfigError, load_config, to_yaml
    from telechat_ptd.pipeline.inputs import InputError
    from telechat_ptd.pipeline.paths import WorkerPathError
    from telechat_ptd.pipeline.resources import ResourceErrors

    try:
        if args.command == "config":
            print(to_yaml(load_config(args.config, args.overrides)), end="")
            return 0
        if args.command == "download":
            return _download(args)
        if args.command == "inspect":
            return _inspect(args)
        if args.command in TRAINING_COMMANDS:
            return TRAINING_COMMANDS[args.command](args)
        if args.command == "sample":
            from telechat_ptd.jobs.sample import write_sample

            paths = write_sample(args.output, seed=args.seed)
            print(f"wrote {len(paths)} sample files to {args.output}")
            return 0
        _configure_logging(args.quiet)
        from telechat_ptd.pipeline.summary import print_summary
        from telechat_ptd.pipeline.resources import check_resources

        inputs = args.inputs
        if not inputs:
            from telechat_ptd.jobs.sample import ensure_sample

            inputs = [ensure_sample()]
            logging.getLogger("telechat_ptd").info("no INPUT given: running on the embedded sample in %s", inputs[0])
        overrides = _shortcut_overrides(args) + args.overrides
        cfg = load_config(args.config, overrides)  # fail on a bad key or model path before Beam starts
        check_resources(cfg, args.command)
        started = time.perf_counter()
        stats = run_job(args.command, inputs, args.output, args.config, overrides, beam_args)
        print_summary(stats, args.command, args.output, time.perf_counter() - started)
        return 0
    except (ConfigError, InputError, WorkerPathError, *ResourceErrors) as exc:
        print(f"ptd: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the pipeline's own failure: say what failed, not a Beam stack
        message = str(exc).strip().splitlines()
        tail = next((line for line in reversed(message) if "Error" in line), message[-1] if message else repr(exc))
        print(f"ptd: job failed: {tail}", file=sys.stderr)
        if os.environ.get("PTD_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
