"""Lenient request-body decoding (client-compatibility.md items 1–4).

Real clients send JSON, Python reprs (`data=str(payload)`), JSON with a bare PowerShell `False`,
JSON with raw newlines inside strings, form-encoded `data=<accessKey>`, or nothing at all — and
the real service accepts every one of them. The order is: JSON (fast, strict), JSON (lenient),
a safe Python-literal walker (never `eval`), then form encoding. Everything is bounded in size
and depth, and every failure is an `ApiError`, never a crash.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import re
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mimicast.wire.errors import ApiError

# The JSON parsers are linear and C-fast, so they get a generous limit; the literal fallback
# builds a full Python AST (tens of bytes of memory per source byte), so it gets a small one.
MAX_BODY_BYTES_JSON = 16 * 1024 * 1024
MAX_BODY_BYTES = 1_048_576
# No real request nests more than a handful of levels; 64 also keeps any echo of a request
# item (a fail entry's `key`) well inside orjson's own serialisation depth limit.
MAX_DEPTH = 64
MAX_FORM_FIELDS = 1000

# orjson.dumps refuses integers outside this range; an echoed `key` holding one would be a 500.
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# `k=v&k2=v2` and nothing else: keys are plain tokens, values anything without `&`.
_FORM_RE = re.compile(r"[\w.\-%+]+=[^&]*(?:&[\w.\-%+]+=[^&]*)*&?")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Lowercase spellings come from JSON mixed into a Python repr (`{'a': true, 'b': None}`).
_NAMES: dict[str, Any] = {"True": True, "False": False, "None": None,
                          "true": True, "false": False, "null": None}


class _Unparsed(Exception):
    """Internal: one parser gave up; `reason` is safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _malformed(reason: str) -> ApiError:
    return ApiError("err_request_malformed", reason=reason)


def decode_body(raw: bytes, content_type: str | None = None) -> dict[str, Any]:
    """Decode a request body to a dict; empty, `null` and `None` bodies mean `{}`.

    `content_type` is only a hint (clients send none, or a wrong one): the body is parsed by
    its content, and the hint only decides whether a form-looking body is read as a form.
    """
    if len(raw) > MAX_BODY_BYTES_JSON:
        raise ApiError("err_request_too_large", limit=MAX_BODY_BYTES_JSON)
    text = _to_text(raw, content_type).strip()
    if not text:
        return {}
    try:
        value = _parse_value(text, len(raw))
    except _Unparsed as exc:
        form = _parse_form(text, declared=_is_form_type(content_type))
        if form is None:
            raise _malformed(exc.reason) from None
        value = form
    if value is None:  # `null` / `None`: the documented "no body"
        return {}
    if not isinstance(value, dict):
        raise _malformed(f"the body must be an object, not {_kind(value)}")
    return value


def normalise_request(body: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The request's `data` items and `meta`, with every missing piece defaulted.

    `data` may be absent, null, a single object (some clients drop the list), a list, or a
    bare string (form logout `data=<accessKey>`); `meta` that is not an object is ignored.
    """
    if not isinstance(body, dict):
        return [], {}
    data = body.get("data")
    if data is None:
        items: list[Any] = []
    elif isinstance(data, list):
        items = data
    else:
        items = [data]
    meta = body.get("meta")
    return items, meta if isinstance(meta, dict) else {}


def pagination(meta: dict[str, Any]) -> tuple[int | None, str | None]:
    """`(pageSize, pageToken)` from `meta.pagination`; None means "not given".

    camelCase wins; snake_case (`page_size`, `page_token`) is read too. pageSize may be a
    numeric string; a pageToken of null or '' means "first page".
    """
    page = meta.get("pagination") if isinstance(meta, dict) else None
    if not isinstance(page, dict):
        return None, None
    size = _first_present(page, "pageSize", "page_size")
    token = _first_present(page, "pageToken", "page_token")
    return _page_size(size), _page_token(token)


# --- text ------------------------------------------------------------------------------------

def _to_text(raw: bytes, content_type: str | None) -> str:
    """UTF-8 first; otherwise the declared charset, otherwise Latin-1.

    `requests.post(data=<str>)` and Windows PowerShell 5.1 both encode a str body as
    ISO-8859-1, so a Python-repr body with `é` arrives as invalid UTF-8. Latin-1 maps every
    byte, so garbage still reaches the parsers — and is then rejected by them.
    """
    text: str | None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
        charset = _param(content_type, "charset")
        if charset:
            try:
                with _compiler_warnings_off():  # unicode_escape warns like the compiler
                    text = raw.decode(charset)
                # Codecs such as unicode_escape can yield lone surrogates, which no response
                # could echo back (orjson refuses them).
                text.encode("utf-8")
            except (LookupError, ValueError):
                # ValueError: UnicodeError from codecs like `undefined`, a NUL in the name.
                text = None
        if text is None:
            text = raw.decode("latin-1")
    return text.removeprefix("\ufeff")  # a BOM from Windows editors / .NET


def _param(content_type: str | None, name: str) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"') or None
    return None


def _is_form_type(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == _FORM_CONTENT_TYPE


# --- parsers ---------------------------------------------------------------------------------

def _parse_value(text: str, size: int) -> Any:
    """JSON, then lenient JSON, then a Python literal; raises _Unparsed with a reason."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        # orjson already limits ints, floats and strings; only depth is left to check, and a
        # body with fewer brackets than the limit cannot be too deep.
        if text.count("[") + text.count("{") > MAX_DEPTH:
            _check_tree(value, strict=False)
        return value

    json_reason = "not valid JSON"
    try:
        # strict=False: a stored token may carry a raw newline inside a JSON string.
        value = json.loads(text, strict=False, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        json_reason = f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except RecursionError:
        json_reason = f"nested more than {MAX_DEPTH} levels deep"
    except (ValueError, MemoryError):
        pass
    else:
        _check_tree(value, strict=True)
        return value

    if size > MAX_BODY_BYTES:
        raise ApiError("err_request_too_large", limit=MAX_BODY_BYTES)
    try:
        with _compiler_warnings_off():
            tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        # Not Python either: the JSON diagnosis is the useful one for most clients.
        raise _Unparsed(json_reason) from None
    return _literal(tree.body, 1)


@contextlib.contextmanager
def _compiler_warnings_off() -> Iterator[None]:
    """An invalid escape (the `\\p` of `'C:\\path'`) makes the compiler warn, with a
    SyntaxWarning on the server's stderr from Python 3.12: clients could fill the log with
    them. The string itself is accepted as written. (The warning filters are process-wide
    state; the server decodes bodies on its event loop, one at a time.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        yield


def _reject_constant(name: str) -> Any:
    # NaN/Infinity are not JSON and orjson.dumps would turn them into null on the way out.
    raise ValueError(f"{name} is not allowed")


def _literal(node: ast.AST, depth: int) -> Any:
    """Walk a parsed Python expression, accepting only plain data (never evaluates code)."""
    if depth > MAX_DEPTH:
        raise _Unparsed(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant):
        return _scalar(node.value)
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)):
        number = node.operand.value
        return _scalar(-number if isinstance(node.op, ast.USub) else number)
    if isinstance(node, ast.Dict):
        result: dict[str, Any] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise _Unparsed("'**' is not allowed in a literal")
            key = _literal(key_node, depth + 1)
            if not isinstance(key, str):
                raise _Unparsed("object keys must be strings")
            result[key] = _literal(value_node, depth + 1)
        return result
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, depth + 1) for item in node.elts]
    if isinstance(node, ast.Name):
        raise _Unparsed(f"unquoted word {_show(node.id)}")
    raise _Unparsed(f"{_node_name(node)} is not allowed in a literal")


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _check_str(_join_surrogate_pairs(value))
    if isinstance(value, bytes):  # b'..' in a Python 2-era repr
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    if isinstance(value, int):
        return _check_int(value)
    if isinstance(value, float):
        return _check_float(value)
    raise _Unparsed(f"{type(value).__name__} values are not allowed")


def _join_surrogate_pairs(value: str) -> str:
    """`"\\ud83d\\ude00"` is one character to JSON but two lone surrogates to Python; a JSON
    string in a body that also holds a Python constant (`False`) reaches the literal walker,
    and means what JSON means. Lone surrogates stay, for `_check_str` to refuse."""
    if not _SURROGATE_RE.search(value):
        return value
    try:
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        return value


def _node_name(node: ast.AST) -> str:
    names = {"Call": "a function call", "Attribute": "attribute access",
             "Subscript": "subscripting", "Set": "a set", "BinOp": "arithmetic",
             "Lambda": "a lambda", "JoinedStr": "an f-string"}
    return names.get(type(node).__name__, f"a {type(node).__name__} expression")


def _check_tree(value: Any, *, strict: bool) -> None:
    """Depth (always) and, for the stdlib parser, values orjson could not serialise back."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise _Unparsed(f"nested more than {MAX_DEPTH} levels deep")
            if isinstance(item, dict):
                if strict:
                    for key in item:
                        _check_str(key)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
        elif strict:
            if isinstance(item, str):
                _check_str(item)
            elif isinstance(item, bool):
                pass
            elif isinstance(item, int):
                _check_int(item)
            elif isinstance(item, float):
                _check_float(item)


def _check_int(value: int) -> int:
    if not _INT_MIN <= value <= _INT_MAX:
        raise _Unparsed("a number is out of range")
    return value


def _check_float(value: float) -> float:
    if not math.isfinite(value):
        raise _Unparsed("a number is out of range")
    return value


def _check_str(value: str) -> str:
    # A lone surrogate (`"\ud800"`) parses but cannot be encoded back as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Unparsed("a string holds an invalid \\u escape") from None
    return value


def _parse_form(text: str, *, declared: bool) -> dict[str, Any] | None:
    """`k=v&k2=v2`, or None when the body is not form-shaped.

    A declared form type relaxes the key syntax (any percent-encoded key), but every field
    still needs a key and an `=`: a broken repr must not turn into a one-key form.
    A value that is itself a JSON/literal object or list is decoded; scalars stay strings on
    purpose, so `data=<accessKey>` never becomes a number or None, and loose scalars
    ("100", "true") are accepted downstream anyway (item 4).
    """
    if declared:
        fields = [field for field in text.split("&") if field]
        if not fields or not all(field.partition("=")[0] and "=" in field for field in fields):
            return None
    elif not _FORM_RE.fullmatch(text):
        return None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise _malformed(f"more than {MAX_FORM_FIELDS} form fields") from None
    collected: dict[str, list[Any]] = {}
    for key, raw_value in pairs:
        value: Any = raw_value
        stripped = raw_value.strip()
        if stripped[:1] in ("{", "["):
            try:
                parsed = _parse_value(stripped, len(stripped.encode("utf-8", "replace")))
            except (_Unparsed, ApiError):
                parsed = None
            if isinstance(parsed, (dict, list)):
                value = parsed
        collected.setdefault(key, []).append(value)
    # A repeated key collects into a list, like a servlet's getParameterValues.
    return {key: values[0] if len(values) == 1 else values for key, values in collected.items()}


# --- pagination ------------------------------------------------------------------------------

def _first_present(page: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if page.get(key) is not None:
            return page[key]
    return None


def _page_size(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    size: int | None = None
    if isinstance(value, bool):
        size = None  # True is an int to Python, but not a page size
    elif isinstance(value, int):
        size = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        size = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            size = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if math.isfinite(number) and number.is_integer():
                size = int(number)
    if size is None:
        raise ApiError("err_validation_invalid_value", field="pageSize",
                       reason=f"pageSize must be a whole number, not {_show(value)}")
    if size < 0:
        raise ApiError("err_validation_invalid_value", field="pageSize",
                       reason=f"pageSize must not be negative, not {size}")
    return size


def _page_token(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ApiError("err_validation_invalid_value", field="pageToken",
                   reason=f"pageToken must be a string, not {_kind(value)}")


# --- messages --------------------------------------------------------------------------------

def _kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
