"""casebook.yml: the creditor, the language and the collection policy, merged over the defaults.

The shipped defaults live in `data/defaults.yml`; an absent casebook.yml means all defaults.
Each key under `policy:` replaces the shipped one (`null` turns a rule off) and a named policy
overrides keys of the merged default. Problems are diagnostics at casebook.yml's own lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from yaml.nodes import Node, ScalarNode

from casebook.diagnostics import Diagnostic, did_you_mean
from casebook.model import (
    DEBTOR_KINDS,
    IMPUTATIONS,
    INTEREST_METHODS,
    RATED_METHODS,
    Config,
    Creditor,
    InterestSettings,
    Lawyer,
    Policy,
    Pos,
    RateRow,
    Step,
)
from casebook.read.datafiles import read_data
from casebook.read.yamlread import (
    AnyKey,
    Fields,
    Invalid,
    Reader,
    YamlSyntaxError,
    compose,
    is_null,
)

CONFIG_NAME = "casebook.yml"
OFF = "__off__"  # an explicit `null`: the rule is turned off
STEP_KEYS = ("plan_fallback", "stalling_step", "direct_contact_before")


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    diagnostics: tuple[Diagnostic, ...]


def read_config(data: bytes | None, path: str = CONFIG_NAME) -> LoadedConfig:
    """The merged configuration; `data` None means there is no casebook.yml."""
    defaults = _defaults()
    if data is None:
        return LoadedConfig(defaults, ())
    reader = Reader(path)
    try:
        text = data.decode("utf-8-sig")
        root = compose(text)
    except UnicodeDecodeError:
        reader.error(_pos1(), "encoding", "casebook.yml is not UTF-8 text")
        return LoadedConfig(defaults, tuple(reader.diagnostics))
    except YamlSyntaxError as exc:
        reader.error(_pos1(exc.line + 1, exc.col + 1), "yaml", exc.message)
        return LoadedConfig(defaults, tuple(reader.diagnostics))
    if root is None:
        return LoadedConfig(defaults, ())
    ok, fields = reader.attempt(lambda n: _Schema(reader).top(n), root)
    if not ok or fields is None:
        return LoadedConfig(defaults, tuple(reader.diagnostics))
    config = _merge(_default_fields(), fields, reader)
    return LoadedConfig(config, tuple(reader.diagnostics))


def _pos1(line: int = 1, col: int = 1) -> Pos:
    return Pos(line, col)


@lru_cache(maxsize=1)
def _default_fields() -> Fields:
    return read_data("defaults.yml", lambda reader, node: _Schema(reader).top(node))


@lru_cache(maxsize=1)
def _defaults() -> Config:
    return _merge(_default_fields(), Fields(_pos1()), Reader("defaults.yml"))


class _Schema:
    """Readers for each section of casebook.yml."""

    def __init__(self, reader: Reader) -> None:
        self.r = reader

    def top(self, node: Node) -> Fields | None:
        r = self.r
        return r.mapping(node, {
            "creditor": self.creditor,
            "locale": lambda n: self.choice(n, ("it", "en"), "locale"),
            "currency": r.text,
            "policy": self.policy,
            "policies": self.policies,
            "interest": self.interest,
            "lawyer": self.lawyer,
        }, what="casebook.yml")

    def lawyer(self, node: Node) -> Lawyer | None:
        r = self.r
        f = r.mapping(node, dict.fromkeys(("name", "pec", "address"), r.text), what="lawyer")
        return None if f is None else Lawyer(**f)

    def creditor(self, node: Node) -> Creditor | None:
        r = self.r
        keys = ("name", "address", "vat", "iban", "pec", "email", "phone", "signature")
        f = r.mapping(node, dict.fromkeys(keys, r.text), what="creditor")
        return None if f is None else Creditor(**f)

    def choice(self, node: Node, choices: tuple[str, ...], what: str) -> str | None:
        value = self.r.text(node)
        if value is not None and value not in choices:
            raise Invalid(node, f"{what} must be one of {', '.join(choices)}, found {value!r}"
                          f"{did_you_mean(value, choices)}", "value")
        return value

    def boolean(self, node: Node) -> bool:
        """`true` or `false` (YAML 1.2: `yes`, `on` and the rest are words)."""
        value = self.r.scalar(node, "true or false")
        if value not in ("true", "false") or (isinstance(node, ScalarNode) and node.style):
            raise Invalid(node, f"this must be true or false, found {value!r}", "value")
        return value == "true"

    def nullable(self, read: Callable[[Node], Any]) -> Callable[[Node], Any]:
        def read_or_off(node: Node) -> Any:
            return OFF if is_null(node) else read(node)

        return read_or_off

    def policy(self, node: Node) -> Fields | None:
        r = self.r
        return r.mapping(node, {
            "steps": self.steps,
            "min_gap": self.nullable(r.integer),
            "promise_grace": self.nullable(r.integer),
            "stalling": self.nullable(r.integer),
            "plan_fallback": self.nullable(r.text),
            "stalling_step": self.nullable(r.text),
            "direct_contact_before": self.nullable(r.text),
            "prescription_warning": self.nullable(r.integer),
            "payment_acknowledges": self.boolean,
            "letters_ahead": self.nullable(r.integer),
        }, what="the policy")

    def policies(self, node: Node) -> dict[str, Fields]:
        r = self.r
        if is_null(node):
            r.visit(node)
            return {}
        named = r.mapping(node, AnyKey(self.policy), what="policies")
        return dict(named or {})

    def steps(self, node: Node) -> tuple[Step, ...]:
        steps = self.r.sequence(node, self.step, what="steps")
        seen: dict[str, str] = {}
        for previous, step in zip((None, *steps), steps, strict=False):
            for word in (step.id, *step.aliases):
                if word.lower() in seen:
                    raise Invalid(node, f"the ladder names {word!r} twice "
                                  f"(steps {seen[word.lower()]!r} and {step.id!r})", "ladder")
                seen[word.lower()] = step.id
            if previous is not None and step.after < previous.after:
                raise Invalid(node, f"step {step.id!r} comes after {previous.id!r} but its "
                              f"'after' ({step.after}) is lower than {previous.after}", "ladder")
        if not steps:
            raise Invalid(node, "the ladder needs at least one step", "ladder")
        return steps

    def step(self, node: Node) -> Step | None:
        r = self.r
        f = r.mapping(node, {
            "id": r.text, "after": r.integer, "channel": r.text, "letter": r.text,
            "wait": r.integer, "aliases": r.text_list,
        }, what="a step", required=("id", "after", "channel"))
        return None if f is None else Step(**f)

    def interest(self, node: Node) -> Fields | None:
        r = self.r

        def method(n: Node) -> str | None:
            return self.choice(n, INTEREST_METHODS, "the interest method")

        def rates(key: str) -> Callable[[Node], tuple[RateRow, ...]]:
            return lambda n: r.sequence(n, self.rate, what=key)

        return r.mapping(node, {
            **dict.fromkeys(DEBTOR_KINDS, method),
            "imputation": lambda n: self.choice(n, IMPUTATIONS, "imputation"),
            **{key: rates(key) for key in (f"{m}_rates" for m in RATED_METHODS)},
        }, what="interest")

    def rate(self, node: Node) -> RateRow | None:
        r = self.r

        f = r.mapping(node, {"from": r.date, "rate": r.percent, "source": r.text},
                      what="a rate row", required=("from", "rate"))
        if f is None:
            return None
        return RateRow(start=f["from"], rate=f["rate"], source=f.get("source", "casebook.yml"))


# -- merging ---------------------------------------------------------------


def _merge(defaults: Fields, user: Fields, reader: Reader) -> Config:
    base_policy = _policy_values(defaults["policy"], user.get("policy"))
    policy = _make_policy(base_policy, user.get("policy"), reader)
    policies = {
        name: _make_policy({**base_policy, **_clean(fields)}, fields, reader)
        for name, fields in user.get("policies", {}).items()
    }
    interest = {**defaults["interest"], **user.get("interest", {})}
    return Config(
        creditor=user.get("creditor", Creditor()),
        lawyer=user.get("lawyer"),
        locale=user.get("locale", defaults["locale"]),
        currency=user.get("currency", defaults["currency"]),
        policy=policy,
        policies=policies,
        interest=InterestSettings(**interest),
    )


def _clean(fields: Fields | None) -> dict[str, Any]:
    return dict(fields or {})


def _policy_values(defaults: Fields, user: Fields | None) -> dict[str, Any]:
    return {**defaults, **_clean(user)}


def _make_policy(values: Mapping[str, Any], own: Fields | None, reader: Reader) -> Policy:
    settings: dict[str, Any] = {k: (None if v == OFF else v) for k, v in values.items()}
    if settings.get("steps") is None:
        settings["steps"] = _default_fields()["policy"]["steps"]
    policy = Policy(**settings)
    resolved: dict[str, Any] = {}
    for key in STEP_KEYS:
        name = settings.get(key)
        if name is None:
            continue
        step = policy.resolve(name)
        if step is None:
            where = own.where(key) if own is not None and key in own else _pos1()
            ids = ", ".join(s.id for s in policy.steps)
            reader.error(where, "unknown-step", f"{key} names {name!r}, which is not a step "
                         f"of the ladder{did_you_mean(name, policy.words())}; steps: {ids}")
            resolved[key] = None
        else:
            resolved[key] = step
    return Policy(**{**settings, **resolved})
