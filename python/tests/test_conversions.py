"""wasmtime-py's conversions, sped up (`_conversions`): byte lists go into
the guest in bulk and arrive as they would byte by byte, string lists come
out in bulk as they would string by string; types answer as the C API does."""

import ctypes

from wasmtime import Engine
from wasmtime import _ffi as ffi
from wasmtime.component import Component
from wasmtime.component import _types

import mde_connector  # noqa: F401  (installs the bulk lowering)
from mde_connector import _conversions
from mde_connector._runtime import BUNDLED_COMPONENT


def response_type():
    """The component's `http.response` record type."""
    engine = Engine()
    component = Component.from_file(engine, str(BUNDLED_COMPONENT))
    http = component.type.imports(engine)["mde:connector/http@0.4.0"].ty
    return http.exports(engine)["send"].ty.result.ok


def body_type():
    """The `list<u8>` of the component's `http.body`, its `bytes` case."""
    body = dict(response_type().fields)["body"]
    return dict(body.cases)["bytes"]


def lowered(convert, ty, data):
    """What `convert` writes for `data`: each element's kind and byte, and
    the bytes wasmtime-py reads back."""
    val = ffi.wasmtime_component_val_t()
    convert(ty, None, data, ctypes.pointer(val))
    assert val.kind == ffi.WASMTIME_COMPONENT_LIST.value
    n = val.of.list.size
    cells = ctypes.cast(val.of.list.data, ctypes.POINTER(ffi.wasmtime_component_val_t * n))
    elements = [(cell.kind, cell.of.u8) for cell in cells.contents]
    return elements, ty.convert_from_c(val)


def test_the_bulk_lowering_is_installed():
    assert getattr(_types.ListType.convert_to_c, "bulk", False)
    assert _conversions.install()


def test_bulk_lowering_writes_what_the_per_byte_lowering_writes():
    ty = body_type()
    bulk = _types.ListType.convert_to_c
    data = bytes(range(256)) * 40 + b"tail"
    assert len(data) >= _conversions.MIN_BULK_BYTES
    bulk_elements, bulk_back = lowered(bulk, ty, data)
    per_byte_elements, per_byte_back = lowered(bulk.per_byte, ty, data)
    assert bulk_elements == per_byte_elements
    assert bulk_back == per_byte_back == data


def test_short_byte_lists_take_wasmtime_pys_path():
    ty = body_type()
    for data in (b"", b"short"):
        elements, back = lowered(_types.ListType.convert_to_c, ty, data)
        assert back == data
        assert [b for _, b in elements] == list(data)


def texts_type():
    """The `list<string>` of the component's `lookup-texts` result: its machines."""
    engine = Engine()
    component = Component.from_file(engine, str(BUNDLED_COMPONENT))
    ok = component.type.exports(engine)["lookup-texts"].ty.result.ok
    return dict(ok.fields)["machines"]


def lifted(convert, ty, strings):
    """What `convert` lifts from the C structures wasmtime-py makes of `strings`."""
    val = ffi.wasmtime_component_val_t()
    ty.convert_to_c(None, strings, ctypes.pointer(val))
    return convert(ty, val)


def test_bulk_lifting_reads_what_the_per_string_lifting_reads():
    ty = texts_type()
    bulk = _types.ListType.convert_from_c
    assert getattr(bulk, "bulk", False)
    for strings in (
        [],
        [""],
        ['{"id":"a"}', "", "é ü 😀 \u0000", "x" * 100_000],
        [f'{{"id":"{i}"}}' for i in range(500)],
    ):
        assert lifted(bulk, ty, strings) == strings
        assert lifted(bulk.per_string, ty, strings) == strings
    # Other lists take wasmtime-py's own path.
    assert lifted(bulk, body_type(), b"bytes") == b"bytes"


def test_types_asked_once_answer_as_the_c_api_does():
    ty = body_type()
    assert type(ty.element).__name__ == "U8"
    assert type(ty).element.fget.asked_once
    ok = response_type()
    fields = ok.fields
    assert [name for name, _ in fields] == ["status", "headers", "body"]
    # A copy each time: a caller that changes it changes nothing here.
    fields.clear()
    assert [name for name, _ in ok.fields] == ["status", "headers", "body"]
    # What the C API says, asked afresh.
    original = type(ok).fields.fget.original
    assert [(n, type(t)) for n, t in original.fget(ok)] == [(n, type(t)) for n, t in ok.fields]
