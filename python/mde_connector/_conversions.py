"""Three speed-ups of wasmtime-py 50's conversions of values, installed once.

Bytes in bulk. wasmtime-py lowers a `list<u8>` value by value: a Python call
and a ctypes pointer per byte, about 0.7 µs each, so an answer of 0.8 MB (the
service's largest) spent 0.6 s getting into the guest before the component
read a byte of it. The C structures it fills are plain (a kind byte and the
value, per element), so `ListType.convert_to_c` fills them from the `bytes`
with two slice assignments and one copy: the same structures, in
milliseconds. Every other value takes wasmtime-py's own path.

Strings out in bulk. wasmtime-py lifts a `list<string>` string by string:
a conversion, a copy through a `bytearray` and a C call to free each one,
about 4 µs apiece, so the 500 texts of the largest lookup took 2 ms to come
out. `ListType.convert_from_c` reads the element cells of such a list at
once, takes each string with one `string_at`, and frees the whole list with
one call (which frees the strings with it).

Types asked once. wasmtime-py asks a record type for its fields (and an
option for its payload, a list for its element...) through the C API again
for every value it converts: 500 machines of 32 fields each built 16,000 type
objects per conversion. Types do not change, so each type object keeps what
it was told the first time.

`install()` checks the structures and properties it relies on and leaves
wasmtime-py as it is when they are not the ones it knows.
"""

import ctypes
import struct
from typing import Any, Callable, Optional

#: Below this, the per-byte path costs less than a few microseconds anyway.
MIN_BULK_BYTES = 256


def _layout(ffi) -> Optional[tuple]:
    """(size of one element, offset of its kind, offset of its u8, the u8 kind), or None."""
    try:
        val = ffi.wasmtime_component_val_t
        union = ffi.wasmtime_component_valunion_t
        kind_field = dict(val._fields_)["kind"]
        byte_field = dict(union._fields_)["u8"]
        if ctypes.sizeof(kind_field) != 1 or ctypes.sizeof(byte_field) != 1:
            return None
        return (
            ctypes.sizeof(val),
            val.kind.offset,
            val.of.offset + union.u8.offset,
            ffi.WASMTIME_COMPONENT_U8.value,
        )
    except (AttributeError, KeyError, TypeError):
        return None


def bulk_convert_to_c(ffi, layout: tuple, original: Callable) -> Callable:
    """A `ListType.convert_to_c` that fills byte lists of `bytes` in bulk."""
    size, kind_at, byte_at, u8_kind = layout

    def convert_to_c(self, store, val: Any, ptr) -> None:
        if not isinstance(val, bytes) or len(val) < MIN_BULK_BYTES or not self._is_bytes():
            return original(self, store, val, ptr)
        n = len(val)
        raw = ffi.wasmtime_component_vallist_t()
        ffi.wasmtime_component_vallist_new_uninit(raw, n)
        cells = bytearray(size * n)
        cells[kind_at::size] = bytes((u8_kind,)) * n
        cells[byte_at::size] = val
        ctypes.memmove(raw.data, (ctypes.c_char * len(cells)).from_buffer(cells), len(cells))
        ptr.contents.kind = ffi.WASMTIME_COMPONENT_LIST
        ptr.contents.of.list = raw

    convert_to_c.bulk = True
    # wasmtime-py's own conversion, for what is not a byte list, and for tests.
    convert_to_c.per_byte = original
    return convert_to_c


def _string_cell(ffi) -> Optional[tuple]:
    """A `struct` reading (kind, length, data pointer) from one element cell
    of a list of strings, and the string kind; or None."""
    try:
        val = ffi.wasmtime_component_val_t
        union = ffi.wasmtime_component_valunion_t
        vec = ffi.wasm_byte_vec_t
        kind_at = val.kind.offset
        length_at = val.of.offset + union.string.offset + vec.size.offset
        data_at = val.of.offset + union.string.offset + vec.data.offset
        size, word = ctypes.sizeof(val), ctypes.sizeof(ctypes.c_size_t)
        if (
            ctypes.sizeof(dict(val._fields_)["kind"]) != 1
            or ctypes.sizeof(dict(vec._fields_)["size"]) != word
            or ctypes.sizeof(dict(vec._fields_)["data"]) != ctypes.sizeof(ctypes.c_void_p)
            or not kind_at < length_at < data_at
        ):
            return None
        cell = struct.Struct(
            f"@{kind_at}xB{length_at - kind_at - 1}xN{data_at - length_at - word}xP"
            f"{size - data_at - word}x"
        )
        if cell.size != size:
            return None
        return cell, ffi.WASMTIME_COMPONENT_STRING.value
    except (AttributeError, KeyError, TypeError, struct.error):
        return None


def bulk_convert_from_c(ffi, layout: tuple, string_type: type, original: Callable) -> Callable:
    """A `ListType.convert_from_c` that lifts a list of strings (elements of
    `string_type`) in bulk."""
    cell, string_kind = layout

    def convert_from_c(self, c) -> Any:
        n = c.of.list.size
        if (
            n == 0
            or c.kind != ffi.WASMTIME_COMPONENT_LIST.value
            or not isinstance(self.element, string_type)
        ):
            return original(self, c)
        try:
            cells = ctypes.string_at(c.of.list.data, cell.size * n)
            strings = []
            for kind, length, data in cell.iter_unpack(cells):
                if kind != string_kind:
                    raise TypeError("a list<string> element that is not a string")
                strings.append(ctypes.string_at(data, length).decode("utf-8"))
            return strings
        finally:
            # Frees the cells and every string in them.
            ffi.wasmtime_component_vallist_delete(ctypes.byref(c.of.list))

    convert_from_c.bulk = True
    convert_from_c.per_string = original
    return convert_from_c


#: The properties of type objects that ask the C API, by class.
CACHED_PROPERTIES = {
    "ListType": ["element"],
    "RecordType": ["fields"],
    "TupleType": ["elements"],
    "VariantType": ["cases"],
    "EnumType": ["names"],
    "FlagsType": ["names"],
    "ResultType": ["ok", "err"],
    "OptionType": ["payload"],
}


def _asked_once(prop: property, name: str) -> property:
    """`prop`, computed once per object (a list is handed out as a copy)."""
    slot = "_mde_connector_" + name

    def get(self):
        try:
            value = self.__dict__[slot]
        except KeyError:
            value = self.__dict__[slot] = prop.fget(self)
        return list(value) if isinstance(value, list) else value

    get.asked_once = True
    get.original = prop
    return property(get, doc=prop.__doc__)


def install() -> bool:
    """Converts byte lists in and string lists out in bulk, and asks types
    once from now on; `False` when wasmtime-py's structures are not the ones
    this knows."""
    from wasmtime import _ffi as ffi
    from wasmtime.component import _types

    current = _types.ListType.convert_to_c
    if getattr(current, "bulk", False):
        return True
    layout = _layout(ffi)
    string_layout = _string_cell(ffi)
    properties = [
        (getattr(_types, cls, None), name)
        for cls, names in CACHED_PROPERTIES.items()
        for name in names
    ]
    if (
        layout is None
        or string_layout is None
        or not all(isinstance(getattr(cls, name, None), property) for cls, name in properties)
    ):
        return False
    for cls, name in properties:
        setattr(cls, name, _asked_once(getattr(cls, name), name))
    _types.ListType.convert_to_c = bulk_convert_to_c(ffi, layout, current)
    _types.ListType.convert_from_c = bulk_convert_from_c(
        ffi, string_layout, _types.String, _types.ListType.convert_from_c
    )
    return True


# The other lookups' values (issue 25), both ways: the one place their WIT
# shapes meet Python's.

#: The `query` variant's cases, by the lookup each one is.
QUERY_KINDS = {
    "domain-machines": "domain",
    "file-machines": "file",
    "user-machines": "user",
    "ip-machines": "ip",
    "machine": "machine",
}


def wit_query(kind: str, value: str, at: Optional[str] = None):
    """The WIT `query` for a lookup: `Variant("file", sha1)`, or for `ip`
    an `ip-at` record."""
    from wasmtime.component import Record, Variant

    if kind != "ip":
        return Variant(kind, value)
    record = Record()
    record.ip = value
    record.at = at
    return Variant("ip", record)


def query_of(wit):
    """(kind, input, at) of a WIT `query`, as the component normalised it."""
    if wit.tag == "ip":
        return wit.tag, wit.payload.ip, wit.payload.at
    return wit.tag, wit.payload, None


def wit_query_texts(kind: str, query: str, at: Optional[str], texts, cap_reached: bool):
    """A `query-texts-result`, for the events of a `QueryResult`."""
    from wasmtime.component import Record

    record = Record()
    record.query = wit_query(kind, query, at)
    record.machines = list(texts)
    setattr(record, "cap-reached", cap_reached)
    return record


def prevalence(lookup: str, wit, scrub: Callable[[str], str], loads: Callable):
    """A `domain-prevalence` or `ip-prevalence` record as a `Prevalence`,
    every text scrubbed."""
    from .results import Prevalence

    def text(value):
        return None if value is None else scrub(value)

    unmodelled = text(wit.unmodelled)
    return Prevalence(
        lookup=lookup,
        query=wit.domain if lookup == "domain-stats" else wit.ip,
        look_back_hours=getattr(wit, "look-back-hours"),
        organization_prevalence=getattr(wit, "organization-prevalence"),
        org_first_seen=text(getattr(wit, "org-first-seen")),
        org_last_seen=text(getattr(wit, "org-last-seen")),
        sent_as=text(wit.host if lookup == "domain-stats" else getattr(wit, "ip-address")),
        unmodelled=None if unmodelled is None else loads(unmodelled),
        unmodelled_json=unmodelled,
    )


def token_report(wit, scrub: Callable[[str], str]):
    """A `token-report` record as a `TokenReport`, every text scrubbed."""
    from .results import LookupPermission, TokenReport

    def text(value):
        return None if value is None else scrub(value)

    return TokenReport(
        api_base=scrub(getattr(wit, "api-base")),
        login_host=text(getattr(wit, "login-host")),
        tenant_id=text(getattr(wit, "tenant-id")),
        app_id=text(getattr(wit, "app-id")),
        audience=text(wit.audience),
        roles=[scrub(role) for role in wit.roles],
        expires_at=getattr(wit, "expires-at"),
        audience_cloud=text(getattr(wit, "audience-cloud")),
        lookups=[
            LookupPermission(
                lookup=p.lookup,
                permitted=p.permitted,
                roles_needed=list(getattr(p, "roles-needed")),
            )
            for p in wit.lookups
        ],
    )
