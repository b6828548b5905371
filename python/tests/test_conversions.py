"""wasmtime-py's conversions, sped up (`_conversions`): byte lists go into
the guest in bulk and arrive as they would byte by byte; types answer as the
C API does."""

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
