"""Decoding of Stripe's nested form parameters and validation against `stripe.params` TypedDicts."""

from __future__ import annotations

import functools
import importlib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin
from urllib.parse import parse_qsl

from .errors import StripeError

_KEY_RE = re.compile(r"\[([^\]]*)\]")
_INT_RE = re.compile(r"^-?\d+$")
_FLOAT_RE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")

# Keys of stripe's RequestOptions: the SDK strips them before sending, so they are never params.
_REQUEST_OPTION_KEYS = frozenset(
    {
        "api_key",
        "stripe_version",
        "stripe_account",
        "stripe_context",
        "max_network_retries",
        "idempotency_key",
        "content_type",
        "headers",
    }
)


def decode_form(raw: str) -> dict[str, Any]:
    """Turn `a[b][0][c]=x&expand[]=y` into nested hashes of strings (arrays keyed "0", "1"...)."""
    root: dict[str, Any] = {}
    for full_key, value in parse_qsl(raw, keep_blank_values=True):
        head, _, rest = full_key.partition("[")
        parts = [head, *_KEY_RE.findall("[" + rest)] if rest else [head]
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                # `expand[]=a&expand[]=b`: appended in order, keyed by position.
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    # Arrays stay hashes keyed "0", "1", ... here: only the parameter types can tell
    # `items[0][price]` (an array) from `metadata[0]=x` (a hash with key "0").
    return root


def _as_list(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping) and value and all(k.isdigit() for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return None


def resolve_params_class(dotted: str) -> type:
    """`"checkout.SessionCreateParams"` -> the class in `stripe.params.checkout`."""
    module_suffix, _, name = dotted.rpartition(".")
    module = importlib.import_module(
        "stripe.params" + ("." + module_suffix if module_suffix else "")
    )
    return typing.cast(type, getattr(module, name))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    # Inherited RequestOptions annotations are evaluated in the subclass's module, where some of
    # their names are not imported; lend them from the module that defines them.
    import stripe._request_options as request_options

    localns = dict(vars(request_options))
    localns.setdefault("StripeContext", object)
    hints = typing.get_type_hints(cls, localns=localns, include_extras=True)
    return {k: v for k, v in hints.items() if k not in _REQUEST_OPTION_KEYS}


def _required_keys(cls: type) -> frozenset[str]:
    return typing.cast(frozenset[str], getattr(cls, "__required_keys__", frozenset()))


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__total__") and hasattr(tp, "__annotations__")


def _path(parent: str, key: str | int) -> str:
    return f"{parent}[{key}]" if parent else str(key)


def validate(params: Mapping[str, Any], cls: type) -> dict[str, Any]:
    """Check `params` against a TypedDict and return them with ints and booleans converted."""
    return _check_typeddict(params, cls, "")


def _check_typeddict(value: Any, cls: type, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _invalid(path, f"Invalid object: {path} must be a hash.")
    hints = _hints(cls)
    out: dict[str, Any] = {}
    for key, sub in value.items():
        sub_path = _path(path, key)
        if key not in hints:
            raise StripeError(400, f"Received unknown parameter: {sub_path}", param=sub_path)
        out[key] = _check(sub, hints[key], sub_path)
    for key in _required_keys(cls):
        if key in _REQUEST_OPTION_KEYS:
            continue
        if key not in value:
            missing = _path(path, key)
            raise StripeError(400, f"Missing required param: {missing}.", param=missing)
    return out


def _check(value: Any, tp: Any, path: str) -> Any:
    origin = get_origin(tp)
    if origin in (NotRequired, Required, typing.Annotated):
        return _check(value, get_args(tp)[0], path)
    if origin is Union or origin is types.UnionType:
        return _check_union(value, get_args(tp), path)
    if origin is Literal:
        return _check_literals(value, list(get_args(tp)), path)
    if tp is Any or tp is object:
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _invalid(path, f"Invalid string: {path} must be a string.")
        return value
    if tp is bool:
        if value in ("true", "false"):
            return value == "true"
        raise _invalid(path, f"Invalid boolean: {value!s}")
    if tp is int:
        if isinstance(value, str) and _INT_RE.match(value):
            return int(value)
        raise _invalid(path, f"Invalid integer: {value!s}")
    if tp is float:
        if isinstance(value, str) and _FLOAT_RE.match(value):
            return float(value)
        raise _invalid(path, f"Invalid decimal: {value!s}")
    if origin in (list, typing.List):  # noqa: UP006
        items = _as_list(value)
        if items is None:
            raise _invalid(path, f"Invalid array: {path} must be an array.")
        (item_tp,) = get_args(tp) or (Any,)
        return [_check(v, item_tp, _path(path, i)) for i, v in enumerate(items)]
    if origin in (dict, typing.Dict) or _is_untyped_object(tp):  # noqa: UP006
        if not isinstance(value, Mapping):
            raise _invalid(path, f"Invalid hash: {path} must be a hash.")
        return dict(value)
    if _is_typeddict(tp):
        return _check_typeddict(value, tp, path)
    return value


def _is_untyped_object(tp: Any) -> bool:
    target = get_origin(tp) or tp
    return getattr(target, "__name__", "") in ("UntypedStripeObject", "StripeObject")


def _check_union(value: Any, options: tuple[Any, ...], path: str) -> Any:
    literals: list[Any] = []
    others: list[Any] = []
    for option in options:
        if get_origin(option) is Literal:
            literals.extend(get_args(option))
        else:
            others.append(option)
    if value in literals:
        return value
    typed = [o for o in others if o is not str]
    first_error: StripeError | None = None
    for option in sorted(typed, key=lambda o: 0 if _matches_shape(value, o) else 1):
        try:
            return _check(value, option, path)
        except StripeError as exc:
            if first_error is None:
                first_error = exc
    enum_values = [v for v in literals if v != ""]
    alternatives = [_TYPE_NAMES[o] for o in typed if o in _TYPE_NAMES]
    if isinstance(value, str) and len(typed) < len(others):
        if enum_values:
            # The SDK adds `| str` to enums for forward compatibility; the API itself still
            # rejects values it does not know, and so do we.
            return _check_literals(value, literals, path, alternatives)
        return value
    if first_error is not None and not (enum_values and isinstance(value, str)):
        raise first_error
    return _check_literals(value, literals, path, alternatives)


def _matches_shape(value: Any, tp: Any) -> bool:
    origin = get_origin(tp)
    if origin in (list, typing.List):  # noqa: UP006
        return _as_list(value) is not None
    if isinstance(value, Mapping):
        return _is_typeddict(tp) or origin in (dict, typing.Dict)  # noqa: UP006
    return not (_is_typeddict(tp) or origin in (list, dict))


_TYPE_NAMES = {int: "an integer", bool: "a boolean", float: "a decimal"}


def _check_literals(
    value: Any, allowed: list[Any], path: str, alternatives: list[str] | None = None
) -> Any:
    if value in allowed:
        return value
    shown = [str(v) for v in allowed if v != ""] + (alternatives or [])
    if len(shown) > 1:
        listed = ", ".join(shown[:-1]) + f", or {shown[-1]}"
    else:
        listed = shown[0] if shown else "(empty)"
    raise _invalid(path, f"Invalid {path}: must be one of {listed}")


def _invalid(path: str, message: str) -> StripeError:
    return StripeError(400, message, param=path)
