"""Typed configuration: the package's defaults.yaml, a user YAML on top, then --set.

Every key a user writes must already exist in defaults.yaml; a typo is an error that names the
key (and the closest real key), never a silently ignored setting.
"""

from __future__ import annotations

import copy
import difflib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from telechat_ptd.filters.engine import FiltersConfig
from telechat_ptd.pii import PiiConfig
from telechat_ptd.safety.blocklist import BlocklistConfig
from telechat_ptd.safety.lexicon import LexiconConfig
from telechat_ptd.scorers.config import ScorersConfig


class ConfigError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceRule(_Strict):
    glob: str
    source: str
    txt_mode: Literal["line", "file"] | None = None


class ReadConfig(_Strict):
    text_fields: list[str]
    id_field: str | None
    url_field: str | None
    txt_mode: Literal["line", "file"]
    sources: list[SourceRule]
    default_source: str
    split_mb: float
    max_doc_chars: int
    encoding_errors: Literal["strict", "replace"]
    score_field: str | None


class BoilerplateConfig(_Strict):
    enabled: bool
    max_line_chars: int
    patterns: list[str]


class NormalizeConfig(_Strict):
    enabled: bool
    fix_unicode: Literal["auto", "always", "off"]
    strip_controls: bool
    fold_width: bool
    opencc: str | None
    boilerplate: BoilerplateConfig


class ExactDedupConfig(_Strict):
    enabled: bool


class NearDedupConfig(_Strict):
    enabled: bool
    unit: Literal["auto", "char", "word"]
    ngram_chars: int = Field(ge=1)
    ngram_words: int = Field(ge=1)
    char_min_han_share: float
    num_perm: int = Field(ge=2, le=1024)
    threshold: float = Field(gt=0, lt=1)
    bands: int | None
    rows: int | None
    seed: int
    scheme: Literal["affine32", "legacy"]
    hash: Literal["xxh32", "sha1"]
    verify: bool
    max_bucket_checks: int = Field(ge=1)
    max_rounds: int = Field(ge=1)
    index: list[str]
    save_index: bool

    @model_validator(mode="after")
    def _bands_fit(self):
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both dedup.near.bands and dedup.near.rows, or neither")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self


class DedupConfig(_Strict):
    exact: ExactDedupConfig
    near: NearDedupConfig


class SafetyConfig(_Strict):
    blocklist: BlocklistConfig
    lexicon: LexiconConfig
    pii: PiiConfig


class OutputConfig(_Strict):
    compression: Literal["gz", "zst", "none"]
    num_shards: int | None
    target_shard_mb: float
    rejected_text: bool


class Config(_Strict):
    read: ReadConfig
    normalize: NormalizeConfig
    filters: FiltersConfig
    dedup: DedupConfig
    scorers: ScorersConfig
    safety: SafetyConfig
    output: OutputConfig


def default_dict() -> dict[str, Any]:
    text = resources.files("telechat_ptd").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _check_keys(user: Any, defaults: Any, where: str, origin: str) -> None:
    if not isinstance(user, dict) or not isinstance(defaults, dict):
        return
    for key, value in user.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in defaults:
            close = difflib.get_close_matches(str(key), [str(k) for k in defaults], n=1)
            hint = f"; did you mean '{(where + '.') if where else ''}{close[0]}'?" if close else ""
            raise ConfigError(f"unknown config key '{path}' in {origin}{hint}")
        _check_keys(value, defaults[key], path, origin)


def _merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_set(expr: str) -> dict[str, Any]:
    """'filters.zh.min_chars=300' -> {'filters': {'zh': {'min_chars': 300}}}."""
    if "=" not in expr:
        raise ConfigError(f"--set expects key=value, got '{expr}'")
    key, raw = expr.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"--set has an empty key part in '{expr}'")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value is not valid YAML: {exc}") from None
    return dotted_tree(parts, value)


def dotted_tree(parts: list[str], value: Any) -> dict[str, Any]:
    """['filters', 'zh', 'min_chars'], 300 -> {'filters': {'zh': {'min_chars': 300}}}."""
    tree: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        tree = {part: tree}
    return tree


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    data = default_dict()
    if path is not None:
        try:
            user = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(user, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level")
        _check_keys(user, data, "", str(path))
        data = _merge(data, user)
    return _apply(data, [(parse_set(expr), f"--set {expr}") for expr in overrides])


def with_changes(cfg: Config, changes: dict[str, Any]) -> Config:
    """``cfg`` with dotted-key changes ({'filters.zh.min_chars': 200}), checked like --set."""
    trees = [(dotted_tree(key.split("."), value), f"change {key!r}") for key, value in changes.items()]
    return _apply(cfg.model_dump(mode="json"), trees)


def _apply(data: dict, trees: list[tuple[dict, str]]) -> Config:
    for tree, origin in trees:
        _check_keys(tree, data, "", origin)
        data = _merge(data, tree)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


def to_yaml(cfg: Config) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), allow_unicode=True, sort_keys=False)


def changed_keys(cfg: Config, base: Config | None = None) -> dict[str, Any]:
    """The keys where ``cfg`` differs from ``base`` (the packaged defaults), dotted."""
    def walk(a: Any, b: Any, path: str):
        if isinstance(a, dict) and isinstance(b, dict):
            for key in a:
                yield from walk(a[key], b.get(key), f"{path}.{key}" if path else key)
        elif a != b:
            yield path, a

    base_data = (base or load_config()).model_dump(mode="json")
    return dict(walk(cfg.model_dump(mode="json"), base_data, ""))


def overrides_yaml(cfg: Config, base: Config | None = None) -> str:
    """A --config file holding only what differs from ``base``: ``load_config(file)`` == cfg."""
    tree: dict[str, Any] = {}
    for key, value in changed_keys(cfg, base).items():
        tree = _merge(tree, dotted_tree(key.split("."), value))
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False) if tree else ""
