"""Reading kbctl.yaml: YAML with positions, JSON Schema, then the relations a schema cannot
express. Every problem is a UsageError naming file, line and problem."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbctl.config_model import (
    CONFIG_NAME,
    Channel,
    Config,
    Owner,
    TaxonomyNode,
    _all_nodes,
    parse_interval,
)
from kbctl.errors import UsageError
from kbctl.facts import ANY_LOCALE
from kbctl.load.controlchars import check_config
from kbctl.load.fastschema import SchemaCheck
from kbctl.load.schemawords import describe
from kbctl.resources import load_schema
from kbctl.theme import check_theme_files
from kbctl.usage.settings import escapes_root
from kbctl.yamlutil import CONFIG, BadYaml, line_of_path, load_roundtrip, to_plain

if TYPE_CHECKING:
    import jsonschema


@cache
def _schema() -> SchemaCheck:
    # The fast check spares a valid kbctl.yaml the import of jsonschema (kbctl/load/fastschema.py).
    return SchemaCheck(load_schema("config.schema.json"))


def parse_config(root: Path) -> Config:
    path = root / CONFIG_NAME
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", path=CONFIG_NAME, line=line) from None
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", path=CONFIG_NAME) from None
    try:
        tree = load_roundtrip(text, CONFIG)
    except BadYaml as exc:
        line = exc.line + 1 if exc.line is not None else 1
        raise UsageError(f"YAML error: {exc}", path=CONFIG_NAME, line=line) from None
    if not isinstance(tree, dict):
        raise UsageError("must be a mapping of settings", path=CONFIG_NAME, line=1)
    data = to_plain(tree)
    check_config(data, tree)
    errors = sorted(_schema().errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        error = _most_specific(errors[0])
        where = "/".join(map(str, error.absolute_path)) or "(top level)"
        raise UsageError(
            f"{where}: {describe(error)}", path=CONFIG_NAME,
            line=line_of_path(tree, _error_location(error)),
        )
    config = _build(path, data, tree)
    _check_consistency(config, tree)
    return config


def _error_location(error: jsonschema.ValidationError) -> list:
    """Where to point: an unknown key's own line, not the line of the mapping holding it."""
    location = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        extra = sorted(key for key in error.instance if key not in known)
        location += extra[:1]
    return location


def _most_specific(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    import jsonschema  # only ever reached with an error, when jsonschema is loaded already

    best = jsonschema.exceptions.best_match([error])
    return best or error


def _build(path: Path, data: dict, tree: Any) -> Config:
    review = data.get("review") or {}
    lines: dict[str, int] = {}
    taxonomy = tuple(
        _node(n, "", ["taxonomy", i], tree, lines) for i, n in enumerate(data.get("taxonomy") or [])
    )
    channels = {
        name: Channel(
            name=name,
            kind=spec["kind"],
            audience=spec["audience"],
            select=spec.get("select", "all"),
            options={k: v for k, v in spec.items() if k not in ("kind", "audience", "select")},
        )
        for name, spec in sorted(data["channels"].items())
    }
    for name, channel in channels.items():
        lines[f"channels/{name}"] = line_of_path(tree, ["channels", name]) or 1
        for key in channel.options.get("theme") or {}:
            lines[f"channels/{name}/theme/{key}"] = line_of_path(tree, ["channels", name, "theme", key]) or 1
    for key in data["owners"]:
        lines[f"owners/{key}"] = line_of_path(tree, ["owners", key]) or 1
    for key in data.get("facts") or {}:
        lines[f"facts/{key}"] = line_of_path(tree, ["facts", key]) or 1
    _usage_lines(data, tree, lines)
    speech = {"zh": {"chars_per_second": 4.0}, "en": {"words_per_minute": 150.0}}
    return Config(
        path=path,
        name=data["name"],
        default_locale=data["default_locale"],
        locales=tuple(data["locales"]),
        base_url=(data.get("base_url") or "").rstrip("/") or None,
        owners={
            key: Owner(key, spec["name"], spec.get("github"))
            for key, spec in data["owners"].items()
        },
        taxonomy=taxonomy,
        default_interval=parse_interval(review.get("default_interval", "180d")),
        type_intervals={k: parse_interval(v) for k, v in (review.get("intervals") or {}).items()},
        warn_within=parse_interval(review.get("warn_within", "14d")),
        channels=channels,
        speech={**speech, **(data.get("speech") or {})},
        raw=data,
        lines=lines,
    )


def _usage_lines(data: dict, tree: Any, lines: dict) -> None:
    if "usage" not in data:
        return
    lines["usage"] = line_of_path(tree, ["usage"]) or 1
    for i, _ in enumerate((data["usage"] or {}).get("paths") or []):
        lines[f"usage/paths/{i}"] = line_of_path(tree, ["usage", "paths", i]) or lines["usage"]


def _node(spec: dict, parent: str, where: list, tree: Any, lines: dict) -> TaxonomyNode:
    node_path = f"{parent}/{spec['id']}" if parent else spec["id"]
    line = line_of_path(tree, where)
    lines[node_path] = line or 1
    if spec.get("dtmf") is not None:  # ":" never occurs in a taxonomy path
        lines[f"dtmf:{node_path}"] = line_of_path(tree, [*where, "dtmf"]) or line or 1
    title = spec["title"]
    children = tuple(
        _node(child, node_path, [*where, "children", i], tree, lines)
        for i, child in enumerate(spec.get("children") or [])
    )
    return TaxonomyNode(
        id=spec["id"],
        path=node_path,
        titles=title if isinstance(title, dict) else {"*": title},
        dtmf=spec.get("dtmf"),
        children=children,
        line=line,
    )


def _check_consistency(config: Config, tree: Any) -> None:
    """Relations inside kbctl.yaml that a schema cannot express."""
    if config.default_locale not in config.locales:
        # `tree`, not `config.raw`: only the round-trip tree knows lines.
        raise UsageError(
            f"default_locale {config.default_locale!r} is not in locales",
            path=CONFIG_NAME, line=line_of_path(tree, ["default_locale"]),
        )
    seen: set[str] = set()
    for node in _all_nodes(config.taxonomy):  # not `config.nodes`: a dict hides repeats
        if node.path in seen:
            raise UsageError(f"taxonomy path {node.path!r} appears twice",
                             path=CONFIG_NAME, line=node.line)
        seen.add(node.path)
    for fact in config.facts.values():
        if fact.owner is not None and fact.owner not in config.owners:
            raise UsageError(f"fact {fact.name!r}: owner {fact.owner!r} is not a key of owners",
                             path=CONFIG_NAME, line=fact.line)
        for locale in sorted({*fact.value, *fact.spoken} - {ANY_LOCALE} - set(config.locales)):
            raise UsageError(f"fact {fact.name!r}: locale {locale!r} is not in locales",
                             path=CONFIG_NAME, line=fact.line)
    check_theme_files(path_root(config), config.channels, lambda where: line_of_path(tree, where))
    for path in config.usage.paths:
        if escapes_root(path.pattern):
            raise UsageError(f"usage path {path.pattern!r} is outside the knowledge base "
                             "(kbctl.yaml names files under its root; give others with --usage)",
                             path=CONFIG_NAME, line=path.line)
    for channel in config.channels.values():
        site = channel.options.get("site")
        if site is not None and (site not in config.channels or config.channels[site].kind != "site"):
            raise UsageError(
                f"channel {channel.name!r}: site {site!r} is not a site channel",
                path=CONFIG_NAME, line=config.lines.get(f"channels/{channel.name}"),
            )


def path_root(config: Config) -> Path:
    """The KB root: the folder of kbctl.yaml."""
    return config.path.parent
