"""Typed methods generated from the catalog: one resource per namespace, one method per signed
endpoint, keyword-only arguments from the request item model, the response model as result.

Nothing here names an endpoint: an entry added to `mimicast.catalog.ENDPOINTS` is a method.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import pydantic

from mimicast.client.paging import AsyncPager, Page, Pager

if TYPE_CHECKING:
    from mimicast.catalog.model import Endpoint

# Keyword names every method reserves for itself; a request field of the same name would
# shadow them, which the catalog test guards against.
RESERVED = frozenset({"items", "partial", "page_size", "page_token"})


def attribute_name(text: str) -> str:
    """`get-verification-code` → `get_verification_code`; `ttp/url` → `ttp_url`."""
    return re.sub(r"\W", "_", text)


@cache
def namespaces() -> dict[str, tuple[Endpoint, ...]]:
    """Signed endpoints by resource attribute; unsigned ones (discovery, login) are the
    client's own business. Imported lazily: the catalog pulls in the server's services."""
    from mimicast.catalog import ENDPOINTS

    grouped: dict[str, list[Endpoint]] = {}
    for endpoint in ENDPOINTS.values():
        if not endpoint.unsigned:
            grouped.setdefault(attribute_name(endpoint.namespace), []).append(endpoint)
    return {name: tuple(endpoints) for name, endpoints in grouped.items()}


def request_fields(endpoint: Endpoint) -> dict[str, tuple[str, Any]]:
    """Python keyword → (the item's key on the wire, its annotation)."""
    return {name: (info.alias or name, info.annotation)
            for name, info in endpoint.request.model_fields.items()}


def build_items(endpoint: Endpoint, fields: dict[str, tuple[str, Any]],
                kwargs: dict[str, Any], items: list[Any] | None) -> list[Any]:
    """The request's `data`: one item from the keywords (None means "not sent"), or `items`."""
    unknown = sorted(set(kwargs) - set(fields))
    if unknown:
        raise TypeError(f"{attribute_name(endpoint.action)}() got unexpected keyword "
                        f"argument(s): {', '.join(unknown)}")
    item = {fields[name][0]: value for name, value in kwargs.items() if value is not None}
    if items is not None:
        if item:
            raise TypeError("pass either keyword arguments (one item) or items=[...], not both")
        return [_wire_item(entry) for entry in items]
    return [item] if item else []


def _wire_item(entry: Any) -> Any:
    if isinstance(entry, pydantic.BaseModel):
        return entry.model_dump(by_alias=True, exclude_none=True)
    return entry


def record_model(endpoint: Endpoint) -> type[pydantic.BaseModel] | None:
    """The model of one record of a list endpoint: the response model itself, or, when the
    records sit in a wrapper (`page_items`), the element type of that wrapper's list field."""
    model = endpoint.response
    if model is None or endpoint.page_items is None:
        return model
    info = model.model_fields.get(endpoint.page_items)
    args = typing.get_args(info.annotation) if info is not None else ()
    element = args[0] if args else None
    return element if isinstance(element, type) and issubclass(element,
                                                                pydantic.BaseModel) else None


def typed(endpoint: Endpoint, data: list[Any],
          model: type[pydantic.BaseModel] | None | Literal[False] = False) -> list[Any]:
    """Each data element as the endpoint's response model (or `model`); raw without one.

    An element the model refuses (a server newer or older than this catalog) is still returned
    as the model, unvalidated: a successful call must not turn into an exception here.
    """
    if model is False:
        model = endpoint.response
    if model is None:
        return list(data)
    results: list[Any] = []
    for element in data:
        if not isinstance(element, dict):
            results.append(element)
            continue
        try:
            results.append(model.model_validate(element))
        except pydantic.ValidationError:
            results.append(model.model_construct(**element))
    return results


def _signature(endpoint: Endpoint, fields: dict[str, tuple[str, Any]]) -> inspect.Signature:
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(name, kw, default=None, annotation=annotation | None)
               for name, (_wire, annotation) in fields.items()]
    if endpoint.per_item:
        params.append(inspect.Parameter("items", kw, default=None,
                                        annotation=list[dict[str, Any]] | None))
    if endpoint.paged:
        params.append(inspect.Parameter("page_size", kw, default=None, annotation=int | None))
        params.append(inspect.Parameter("page_token", kw, default=None, annotation=str | None))
    else:
        params.append(inspect.Parameter("partial", kw, default=False, annotation=bool))
    return inspect.Signature(params)


def _doc(endpoint: Endpoint, fields: dict[str, tuple[str, Any]]) -> str:
    lines = [endpoint.summary, "", f"POST {endpoint.path}"]
    if fields:
        lines.append("Keywords: " + ", ".join(fields) + " (None: not sent).")
    if endpoint.per_item:
        lines.append("items=[{...}, ...] sends several items in one call.")
    if endpoint.paged:
        record = record_model(endpoint)
        name = record.__name__ if record else "record"
        lines.append(f"Returns a pager: iterate it for every {name} across pages, or .pages() "
                     "page by page; page_size, page_token to start.")
        return "\n".join(lines)
    if endpoint.download:
        lines.append("Returns the file's bytes: a DownloadedFile, with the .filename it was "
                     "served under and the response's .headers (a feed's next-page token).")
        return "\n".join(lines)
    returned = endpoint.response.__name__ if endpoint.response else "dict"
    lines.append(f"Returns list[{returned}]; partial=True returns (results, failures).")
    return "\n".join(lines)


def _make_method(endpoint: Endpoint, is_async: bool) -> Callable[..., Any]:
    fields = request_fields(endpoint)

    def prepare(kwargs: dict[str, Any]) -> tuple[list[Any], bool]:
        partial = bool(kwargs.pop("partial", False))
        items = kwargs.pop("items", None) if endpoint.per_item else None
        return build_items(endpoint, fields, kwargs, items), partial

    def finish(result: Any, partial: bool) -> Any:
        if endpoint.download:  # the file's bytes (a failure has raised)
            data = result[0] if partial else result
            return data[0] if data else b""
        if partial:
            data, failures = result
            return typed(endpoint, data), failures
        return typed(endpoint, result)

    if endpoint.paged:
        return _name(_make_pager_method(endpoint, is_async, fields), endpoint, fields)
    method: Callable[..., Any]
    if is_async:
        async def method(self: Resource, **kwargs: Any) -> Any:
            items, partial = prepare(kwargs)
            return finish(await self._client.call(endpoint.path, items, partial=partial),
                          partial)
    else:
        def method(self: Resource, **kwargs: Any) -> Any:
            items, partial = prepare(kwargs)
            return finish(self._client.call(endpoint.path, items, partial=partial), partial)

    return _name(method, endpoint, fields)


def _make_pager_method(endpoint: Endpoint, is_async: bool,
                       fields: dict[str, tuple[str, Any]]) -> Callable[..., Any]:
    """A list endpoint's method: it returns a (lazy) pager of typed records; no request is
    sent until the pager is iterated."""
    model = record_model(endpoint)

    def method(self: Resource, **kwargs: Any) -> Any:
        page_size, start = kwargs.pop("page_size", None), kwargs.pop("page_token", None)
        items = build_items(endpoint, fields, kwargs, None)
        client = self._client

        def as_typed(page: Page[Any]) -> Page[Any]:
            return Page(typed(endpoint, page.items, model), page.data, page.pagination)

        if is_async:
            async def fetch_async(token: str | None) -> Page[Any]:
                return as_typed(await client.page(endpoint.path, items, page_size=page_size,
                                                  page_token=token,
                                                  items_key=endpoint.page_items))
            return AsyncPager(fetch_async, start)

        def fetch(token: str | None) -> Page[Any]:
            return as_typed(client.page(endpoint.path, items, page_size=page_size,
                                        page_token=token, items_key=endpoint.page_items))
        return Pager(fetch, start)

    return method


def _name(method: Callable[..., Any], endpoint: Endpoint,
          fields: dict[str, tuple[str, Any]]) -> Callable[..., Any]:
    method.__name__ = attribute_name(endpoint.action)
    method.__doc__ = _doc(endpoint, fields)
    # inspect.signature() reads __signature__: help() and IDEs show the real keywords.
    setattr(method, "__signature__", _signature(endpoint, fields))  # noqa: B010
    setattr(method, "endpoint", endpoint)  # noqa: B010
    return method


class Resource:
    """The methods of one namespace, bound to a client."""

    namespace: str = ""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.namespace!r}>"


@cache
def resource_class(name: str, is_async: bool) -> type[Resource]:
    endpoints = namespaces()[name]
    members: dict[str, Any] = {"namespace": endpoints[0].namespace}
    for endpoint in endpoints:
        method = _make_method(endpoint, is_async)
        method.__qualname__ = f"{name}.{method.__name__}"
        members[method.__name__] = method
    prefix = "Async" if is_async else ""
    title = "".join(part.title() for part in name.split("_"))
    return type(f"{prefix}{title}Resource", (Resource,), members)
