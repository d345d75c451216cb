#!/usr/bin/env python3
"""Generate ``pika/spec.py`` from ``utils/spec/amqp-rabbitmq-0.9.1.json``.

Usage::

    python3 utils/codegen.py              # rewrite pika/spec.py
    python3 utils/codegen.py OUTPUT.py    # write somewhere else

The output is deterministic (same JSON in, same bytes out); a unit test
regenerates it and compares with the committed file.

Theory of the generated code: every method class gets an ``encode()`` that
builds its payload with as few ``struct`` calls as the layout allows (runs of
fixed-size fields, including the length prefix of the string that follows
them, are packed by one precompiled ``struct.Struct``) and a ``_decode_from``
that walks the payload by offset, unpacking the same runs at once, and returns
the offset after the last field. ``decode()`` (pika's API) wraps it. The frame
codec calls ``_decode_from`` directly so it can check a method ends where its
frame does.
"""
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_PATH = os.path.join(HERE, 'spec', 'amqp-rabbitmq-0.9.1.json')
DEFAULT_OUTPUT = os.path.join(os.path.dirname(HERE), 'pika', 'spec.py')

# Field names that are Python keywords or clash with pika's naming.
RENAMES = {'global': 'global_qos'}
# pika 1.4 makes these arguments required (no default).
REQUIRED = {('connection', 'update-secret')}
# Fixed-size field types: struct format character.
FIXED = {
    'octet': 'B',
    'short': 'H',
    'long': 'I',
    'longlong': 'Q',
    'timestamp': 'Q'
}
SIZES = {'B': 1, 'H': 2, 'I': 4, 'Q': 8}
# Properties whose values come from a small set in practice (content type,
# reply queue, ...): their encodings are remembered (bounded cache).
CACHED_PROPERTIES = ('content_type', 'content_encoding', 'reply_to',
                     'expiration', 'type', 'user_id', 'app_id', 'cluster_id')
# Property types the specialised decoders know.
DECODER_KINDS = ('shortstr', 'table', 'octet', 'timestamp')
# The properties a message commonly carries: a specialised decoder is
# generated for every subset of them (32; the class's other properties
# absent); other sets of properties use the generic decoder.
COMMON_PROPERTIES = ('content_type', 'headers', 'delivery_mode',
                     'correlation_id', 'reply_to')
PY_TYPES = {
    'octet': 'int',
    'short': 'int',
    'long': 'int',
    'longlong': 'int',
    'timestamp': 'int',
    'bit': 'bool',
    'shortstr': 'str',
    'longstr': 'Union[str, bytes]',
    'table': 'Dict[str, Any]'
}

HELPERS = """
def _octet(value: Any, name: str) -> int:
    \"\"\"Validate an octet property value (an int or int-valued Enum).\"\"\"
    number = getattr(value, 'value', value)
    # TypeError / ValueError by our rule, each also the struct.error that
    # pika 1.4 raises when it packs the octet
    if not isinstance(number, int):
        raise exceptions._FieldTypeError(
            '%s must be an integer 0..255, not %r' % (name, value))
    if not 0 <= number <= 255:
        raise exceptions._FieldRangeError(
            '%s must be an integer 0..255, not %r' % (name, value))
    return int(number)


def _delivery_mode(value: Any) -> int:
    \"\"\"Validate a delivery_mode value (1, 2 or a DeliveryMode).\"\"\"
    number = getattr(value, 'value', value)
    if not isinstance(number, int) or number not in (1, 2):
        raise ValueError('delivery_mode must be 1 (transient) or 2 '
                         '(persistent), but got %r' % (value,))
    return int(number)


def _short_prefixed(value: Any, name: str) -> bytes:
    \"\"\"Length-prefixed short string from a str or bytes value.\"\"\"
    encoded = data.short_string_bytes(value, name)
    return _BYTE[len(encoded)] + encoded


_SHORT_CACHE: Dict[str, bytes] = {}
_SHORT_CACHE_MAX = 1024
_short_cache_get = _SHORT_CACHE.get


def _short_cache_add(value: str) -> bytes:
    \"\"\"Encode a short string and remember it while the cache has room.\"\"\"
    encoded = value.encode()
    if len(encoded) > 255:
        data.short_string_too_long(encoded)
    prefixed = _BYTE[len(encoded)] + encoded
    if len(_SHORT_CACHE) < _SHORT_CACHE_MAX:
        _SHORT_CACHE[value] = prefixed
    return prefixed


def _raw_short_string(raw: Any) -> Any:
    \"\"\"A short string that is not UTF-8: kept as its bytes, as pika does
    (typed Any: the attribute is annotated with the usual ``str``).\"\"\"
    return bytes(raw)


# Content-properties decoders specialised by property-flags word: a
# publisher sends few distinct sets of properties, and straight-line code for
# one set tests no flags and assigns every absent property None directly.
# They are generated (plain source below, one per common set of properties,
# ``<Class>Properties._SPECIALISED``); any other flags word gets the generic
# decoder bound to it. Either is remembered per flags word in ``_DECODERS``,
# bounded: past the limit, flags words not yet seen are looked up again.
_DECODERS_MAX = 256


def _compile_decoder(properties_class: Any, flags: int) -> Any:
    \"\"\"Return ``decode(self, encoded, offset) -> offset`` for flags.\"\"\"
    decoder = properties_class._SPECIALISED.get(flags)
    if decoder is None:
        decoder = _bound_generic(properties_class._decode_properties, flags)
    decoders = properties_class._DECODERS
    if len(decoders) < _DECODERS_MAX:
        decoders[flags] = decoder
    return decoder


def _bound_generic(generic: Callable[[Any, Any, int, int], int],
                   flags: int) -> Callable[[Any, Any, int], int]:
    \"\"\"``generic(properties, encoded, offset, flags)`` as the decoder of
    one flags word.\"\"\"

    def decode(properties: Any, encoded: Any, offset: int) -> int:
        return generic(properties, encoded, offset, flags)

    return decode
"""


def camel(name: str) -> str:
    return ''.join(part.capitalize() for part in name.split('-'))


def pyname(name: str) -> str:
    name = name.replace('-', '_')
    return RENAMES.get(name, name)


def constname(name: str) -> str:
    return name.replace('-', '_').upper()


class Generator:
    """Builds the source text of pika/spec.py."""

    def __init__(self, spec: Dict[str, Any]) -> None:
        self.spec = spec
        self.domains = dict(spec['domains'])
        self.structs: Dict[str, str] = {}
        self.body: List[str] = []

    # -- helpers ----------------------------------------------------------
    def field_type(self, argument: Dict[str, Any]) -> str:
        kind = argument.get('type') or argument['domain']
        while kind in self.domains and self.domains[kind] != kind:
            kind = self.domains[kind]
        return kind

    def struct_name(self, fmt: str) -> str:
        name = '_S_' + fmt
        self.structs[fmt] = name
        return name

    def emit(self, line: str = '', indent: int = 0) -> None:
        self.body.append(('    ' * indent + line) if line else '')

    # -- layout -----------------------------------------------------------
    def layout(self, fields: List[Tuple[str, str]]) -> List[Any]:
        """Group fields into runs.

        Returns a list of items: ('fixed', [(fmt, expr_kind, name), ...]) where
        expr_kind is 'field', 'bits' (list of names), 'strlen' (short/long
        string length prefix); and ('str', name, 'short'|'long') /
        ('table', name) for the variable parts that follow a run.
        """
        items: List[Any] = []
        run: List[Any] = []
        bits: List[str] = []

        def flush_bits() -> None:
            if bits:
                run.append(('B', 'bits', list(bits)))
                bits.clear()

        for name, kind in fields:
            if kind == 'bit':
                if len(bits) == 8:
                    flush_bits()
                bits.append(name)
                continue
            flush_bits()
            if kind in FIXED:
                run.append((FIXED[kind], 'field', name))
            elif kind in ('shortstr', 'longstr'):
                run.append(('B' if kind == 'shortstr' else 'I', 'strlen', name))
                items.append(('fixed', run))
                run = []
                items.append(('str', name, kind))
            elif kind == 'table':
                if run:
                    items.append(('fixed', run))
                    run = []
                items.append(('table', name))
            else:
                raise ValueError('unknown field type %s' % kind)
        flush_bits()
        if run:
            items.append(('fixed', run))
        return items

    # -- encode -----------------------------------------------------------
    def gen_encode(self, fields: List[Tuple[str, str]], indent: int) -> None:
        self.emit('def encode(self) -> List[bytes]:', indent)
        self.emit('"""Return the encoded arguments as a list of bytes."""',
                  indent + 1)
        if not fields:
            self.emit('return []', indent + 1)
            return
        parts: List[str] = []
        for item in self.layout(fields):
            if item[0] == 'fixed':
                fmt = ''.join(entry[0] for entry in item[1])
                args = []
                for entry in item[1]:
                    if entry[1] == 'field':
                        args.append('self.%s' % entry[2])
                    elif entry[1] == 'strlen':
                        var = '%s_bytes' % entry[2]
                        self.gen_string_prep(entry[2],
                                             var,
                                             fmt_char=entry[0],
                                             indent=indent + 1)
                        args.append('len(%s)' % var)
                    else:
                        args.append(' | '.join(
                            '(%d if self.%s else 0)' % (1 << index, bit)
                            for index, bit in enumerate(entry[2])))
                if fmt == 'B' and item[1][0][1] != 'field':
                    parts.append('_BYTE[%s]' % args[0])
                else:
                    parts.append('%s.pack(%s)' %
                                 (self.struct_name(fmt), ', '.join(args)))
            elif item[0] == 'str':
                parts.append('%s_bytes' % item[1])
            else:
                parts.append('data.table_bytes(self.%s)' % item[1])
        if len(parts) == 1:
            self.emit('return [%s]' % parts[0], indent + 1)
        else:
            self.emit('return [b\'\'.join((', indent + 1)
            for part in parts:
                self.emit('%s,' % part, indent + 3)
            self.emit('))]', indent + 1)

    def gen_string_prep(self, name: str, var: str, fmt_char: str,
                        indent: int) -> None:
        self.emit('%s: Any = self.%s' % (var, name), indent)
        if fmt_char == 'B':
            self.emit('if %s.__class__ is str:' % var, indent)
            self.emit('%s = %s.encode()' % (var, var), indent + 1)
            self.emit('if len(%s) > 255:' % var, indent + 1)
            self.emit('data.short_string_too_long(%s)' % var, indent + 2)
            self.emit('else:', indent)
            self.emit(
                "%s = data.short_string_bytes(%s, 'self.%s')" %
                (var, var, name), indent + 1)
        else:
            self.emit('if %s.__class__ is str:' % var, indent)
            self.emit('%s = %s.encode()' % (var, var), indent + 1)
            self.emit('elif %s.__class__ is not bytes:' % var, indent)
            self.emit(
                "%s = data.long_string_bytes(%s, 'self.%s')" % (var, var, name),
                indent + 1)

    # -- decode -----------------------------------------------------------
    def gen_decode(self, fields: List[Tuple[str, str]], indent: int,
                   qualname: str) -> None:
        self.emit(
            'def decode(self, encoded: Any, offset: int = 0) -> %r:' % qualname,
            indent)
        self.emit('"""Decode the arguments from ``encoded`` at ``offset``.',
                  indent + 1)
        self.emit('')
        self.emit(':param bytes encoded: The encoded data', indent + 1)
        self.emit(':param int offset: Where the arguments start', indent + 1)
        self.emit(':rtype: %s' % qualname, indent + 1)
        self.emit('')
        self.emit('"""', indent + 1)
        self.emit('if encoded.__class__ is memoryview:', indent + 1)
        self.emit('encoded = encoded.tobytes()', indent + 2)
        self.emit('self._decode_from(encoded, offset)', indent + 1)
        self.emit('return self', indent + 1)
        self.emit('')
        self.emit('def _decode_from(self, encoded: bytes, offset: int) -> int:',
                  indent)
        for item in self.layout(fields):
            if item[0] == 'fixed':
                self.gen_fixed_decode(item[1], indent + 1)
            elif item[0] == 'str':
                self.gen_string_decode(item[1], item[2], indent + 1)
            else:
                self.emit(
                    'self.%s, offset = _decode_table(encoded, offset)' %
                    item[1], indent + 1)
        self.emit('return offset', indent + 1)

    def gen_fixed_decode(self, run: List[Any], indent: int) -> None:
        fmt = ''.join(entry[0] for entry in run)
        targets = []
        bit_names: List[str] = []
        for entry in run:
            if entry[1] == 'field':
                targets.append('self.%s' % entry[2])
            elif entry[1] == 'strlen':
                targets.append('length')
            else:
                targets.append('bits')
                bit_names = entry[2]
        size = sum(SIZES[char] for char in fmt)
        if fmt == 'B':
            self.emit('%s = encoded[offset]' % targets[0], indent)
        elif len(targets) == 1:
            self.emit(
                '%s = %s.unpack_from(encoded, offset)[0]' %
                (targets[0], self.struct_name(fmt)), indent)
        else:
            self.emit(
                '%s = %s.unpack_from(encoded, offset)' %
                (', '.join(targets), self.struct_name(fmt)), indent)
        self.emit('offset += %d' % size, indent)
        for index, bit in enumerate(bit_names):
            self.emit('self.%s = (bits & %d) != 0' % (bit, 1 << index), indent)

    def gen_string_decode(self, name: str, kind: str, indent: int) -> None:
        self.emit('end = offset + length', indent)
        if kind == 'shortstr':
            self.emit('try:', indent)
            self.emit('self.%s = encoded[offset:end].decode()' % name,
                      indent + 1)
            self.emit('except UnicodeDecodeError:', indent)
            self.emit('self.%s = _raw_short_string(encoded[offset:end])' % name,
                      indent + 1)
        else:
            self.emit('self.%s = bytes(encoded[offset:end])' % name, indent)
        self.emit('offset = end', indent)

    # -- classes ----------------------------------------------------------
    def signature(self, cls: Dict[str, Any], method: Dict[str, Any],
                  fields: List[Tuple[str, str]]) -> List[str]:
        params = []
        required = (cls['name'], method['name']) in REQUIRED
        for argument, (name, kind) in zip(method['arguments'], fields):
            annotation = PY_TYPES[kind]
            if required:
                params.append('%s: %s' % (name, annotation))
                continue
            default = argument.get('default-value')
            if kind == 'table':
                params.append('%s: Optional[%s] = None' % (name, annotation))
            elif default is None:
                # Decoded frames always carry the field: typed as its value
                # (``method.delivery_tag`` is an int to mypy), the default
                # None reached through the Any-typed ``_NO_VALUE``.
                params.append('%s: %s = _NO_VALUE' % (name, annotation))
            elif cls['name'] == 'exchange' and name == 'type':
                params.append('%s: Union[str, ExchangeType] = '
                              'ExchangeType.%s' % (name, default))
            else:
                params.append('%s: %s = %r' % (name, annotation, default))
        return params

    def gen_method(self, cls: Dict[str, Any], method: Dict[str, Any]) -> None:
        class_name = camel(cls['name'])
        method_name = camel(method['name'])
        qualname = '%s.%s' % (class_name, method_name)
        index = (cls['id'] << 16) | method['id']
        fields = [(pyname(argument['name']), self.field_type(argument))
                  for argument in method['arguments']]
        self.emit('class %s(amqp_object.Method):' % method_name, 1)
        self.emit(
            '"""AMQP method %s (class %d, method %d)."""' %
            (qualname, cls['id'], method['id']), 2)
        self.emit('')
        self.emit(
            'INDEX = 0x%08X  # %d, %d; %d' %
            (index, cls['id'], method['id'], index), 2)
        self.emit('NAME = %r' % qualname, 2)
        self.emit('synchronous = %r' % bool(method.get('synchronous')), 2)
        self.emit('')
        params = self.signature(cls, method, fields)
        if params:
            self.emit('def __init__(', 2)
            self.emit('self,', 4)
            for param in params:
                self.emit('%s,' % param, 4)
            self.emit(') -> None:', 3)
        else:
            self.emit('def __init__(self) -> None:', 2)
        self.emit('"""Create the method with its arguments."""', 3)
        for name, _kind in fields:
            self.emit('self.%s = %s' % (name, name), 3)
        if not fields:
            self.emit('pass', 3)
        self.emit('')
        self.gen_decode(fields, 2, qualname)
        self.emit('')
        self.gen_encode(fields, 2)
        self.emit('')

    def gen_class(self, cls: Dict[str, Any]) -> None:
        class_name = camel(cls['name'])
        self.emit('')
        self.emit('class %s(amqp_object.Class):' % class_name)
        self.emit(
            '"""AMQP class %s (class id %d)."""' % (class_name, cls['id']), 1)
        self.emit('')
        self.emit('INDEX = 0x%04X  # %d' % (cls['id'], cls['id']), 1)
        self.emit('NAME = %r' % class_name, 1)
        self.emit('')
        for method in cls['methods']:
            self.gen_method(cls, method)
        while self.body[-1] == '':
            self.body.pop()
        self.emit('')

    def gen_property_decode(self,
                            name: str,
                            kind: str,
                            indent: int,
                            typed_input: bool = True) -> None:
        """Decode one present property at ``offset`` into ``self.<name>``.

        ``typed_input``: ``encoded`` is typed as bytes where the code is
        emitted (an octet read from it is then an ``int``, which the
        ``delivery_mode`` attribute's type does not admit).
        """
        if kind == 'shortstr':
            self.emit('end = offset + 1 + encoded[offset]', indent)
            self.emit('try:', indent)
            self.emit('self.%s = encoded[offset + 1:end].decode()' % name,
                      indent + 1)
            self.emit('except UnicodeDecodeError:', indent)
            self.emit(
                'self.%s = _raw_short_string(encoded[offset + 1:end])' % name,
                indent + 1)
            self.emit('offset = end', indent)
        elif kind == 'table':
            self.emit('self.%s, offset = _decode_table(encoded, offset)' % name,
                      indent)
        elif FIXED[kind] == 'B':
            # delivery_mode is typed as what a publisher may set (1, 2); a
            # received one is the octet the publisher sent.
            self.emit(
                'self.%s = encoded[offset]%s' %
                (name, '  # type: ignore[assignment]'
                 if typed_input and name == 'delivery_mode' else ''), indent)
            self.emit('offset += 1', indent)
        else:
            fmt = FIXED[kind]
            self.emit(
                'self.%s = %s.unpack_from(encoded, offset)[0]' %
                (name, self.struct_name(fmt)), indent)
            self.emit('offset += %d' % SIZES[fmt], indent)

    def gen_specialised_decoders(
            self, class_name: str, props: List[Tuple[str, str]],
            flags: Dict[str, int]) -> List[Tuple[int, str]]:
        """Decoder methods, one per subset of the class's common properties;
        returns ``[(flags word, method name)]``."""
        common = [name for name, _kind in props if name in COMMON_PROPERTIES]
        generated = []
        for subset in range(1 << len(common)):
            present = {
                name for bit, name in enumerate(common) if subset >> bit & 1
            }
            flag_word = sum(flags[name] for name in present)
            function = '_decode_flags_%04x' % flag_word
            self.emit('')
            self.emit(
                'def %s(self, encoded: Any, offset: int) -> int:' % function, 1)
            self.emit(
                '"""The properties after flags word 0x%04X at ``offset``."""' %
                flag_word, 2)
            for name, kind in props:
                if name in present:
                    self.gen_property_decode(name, kind, 2, typed_input=False)
                else:
                    self.emit('self.%s = None' % name, 2)
            self.emit('return offset', 2)
            generated.append((flag_word, function))
        return sorted(generated)

    def gen_properties(self, cls: Dict[str, Any]) -> None:
        class_name = camel(cls['name'])
        props = [(pyname(prop['name']), self.field_type(prop))
                 for prop in cls['properties']]
        flags = {
            name: 1 << (15 - index) for index, (name, _) in enumerate(props)
        }
        self.emit('')
        self.emit('class %sProperties(amqp_object.Properties):' % class_name)
        self.emit('"""Content properties of AMQP class %s."""' % class_name, 1)
        self.emit('')
        self.emit('CLASS = %s' % class_name, 1)
        self.emit('INDEX = 0x%04X  # %d' % (cls['id'], cls['id']), 1)
        self.emit('NAME = %r' % (class_name + 'Properties'), 1)
        self.emit('')
        for name, _kind in props:
            self.emit(
                'FLAG_%s = 1 << %d' %
                (name.upper(), flags[name].bit_length() - 1), 1)
        self.emit('')
        # (flag, attribute, type) for the specialised decoders
        self.emit('_FIELDS = (', 1)
        for name, kind in props:
            if kind not in DECODER_KINDS:
                raise ValueError('no decoder for property %s of type %s' %
                                 (name, kind))
            self.emit('(0x%04X, %r, %r),' % (flags[name], name, kind), 2)
        self.emit(')', 1)
        self.emit('_DECODERS: Dict[int, Callable[..., int]] = {}', 1)
        self.emit('')
        self.emit('def __init__(', 1)
        self.emit('self,', 3)
        for name, kind in props:
            annotation = PY_TYPES[kind]
            if name == 'delivery_mode':
                annotation = 'Union[Literal[1, 2], DeliveryMode]'
            self.emit('%s: Optional[%s] = None,' % (name, annotation), 3)
        self.emit(') -> None:', 2)
        self.emit('"""Create the properties; every one defaults to None."""', 2)
        for name, _kind in props:
            if name == 'delivery_mode':
                self.emit('if isinstance(delivery_mode, DeliveryMode):', 2)
                self.emit('delivery_mode = delivery_mode.value', 3)
            self.emit('self.%s = %s' % (name, name), 2)
        self.emit('')
        # decode
        self.emit(
            'def decode(self, encoded: Any, offset: int = 0) -> %r:' %
            (class_name + 'Properties'), 1)
        self.emit('"""Decode the properties from ``encoded`` at ``offset``.', 2)
        self.emit('')
        self.emit(':param bytes encoded: The encoded data', 2)
        self.emit(':param int offset: Where the property flags start', 2)
        self.emit(':rtype: %sProperties' % class_name, 2)
        self.emit('')
        self.emit('"""', 2)
        self.emit('if encoded.__class__ is memoryview:', 2)
        self.emit('encoded = encoded.tobytes()', 3)
        self.emit('self._decode_from(encoded, offset)', 2)
        self.emit('return self', 2)
        self.emit('')
        self.emit('def _decode_from(self, encoded: bytes, offset: int) -> int:',
                  1)
        self.emit('flags = _S_H.unpack_from(encoded, offset)[0]', 2)
        self.emit('try:', 2)
        self.emit('decoder = self._DECODERS[flags]', 3)
        self.emit('except KeyError:', 2)
        self.emit('decoder = _compile_decoder(self.__class__, flags)', 3)
        self.emit('return decoder(self, encoded, offset + 2)', 2)
        self.struct_name('H')
        self.struct_name('Q')
        self.emit('')
        self.emit(
            'def _decode_properties(self, encoded: bytes, offset: int, '
            'flags: int) -> int:', 1)
        self.emit('if flags & 1:', 2)
        self.emit('# continuation flags words: none carries a property', 3)
        self.emit('while _S_H.unpack_from(encoded, offset)[0] & 1:', 3)
        self.emit('offset += 2', 4)
        self.emit('offset += 2', 3)
        self.emit('if not flags:', 2)
        for name, _kind in props:
            self.emit('self.%s = None' % name, 3)
        self.emit('return offset', 3)
        for name, kind in props:
            self.emit('if flags & 0x%04X:' % flags[name], 2)
            self.gen_property_decode(name, kind, 3)
            self.emit('else:', 2)
            self.emit('self.%s = None' % name, 3)
        self.emit('return offset', 2)
        self.emit('')
        # encode
        self.emit('def encode(self) -> List[bytes]:', 1)
        self.emit('"""Return the encoded properties as a list of bytes."""', 2)
        self.emit('return [self._encoded()]', 2)
        self.emit('')
        self.emit('def _encoded(self) -> bytes:', 1)
        self.emit('# encode() as one bytes object (the frame codec uses it)', 2)
        self.emit("pieces: List[bytes] = [b'']  # [0]: the flags", 2)
        self.emit('flags = 0', 2)
        self.emit('value: Any', 2)
        for name, kind in props:
            self.emit('value = self.%s' % name, 2)
            self.emit('if value is not None:', 2)
            self.emit('flags |= 0x%04X' % flags[name], 3)
            if kind == 'shortstr' and name in CACHED_PROPERTIES:
                self.emit('if value.__class__ is str:', 3)
                self.emit('try:', 4)
                self.emit('pieces.append(_SHORT_CACHE[value])', 5)
                self.emit('except KeyError:', 4)
                self.emit('pieces.append(_short_cache_add(value))', 5)
                self.emit('else:', 3)
                self.emit(
                    "pieces.append(_short_prefixed(value, 'self.%s'))" % name,
                    4)
            elif kind == 'shortstr':
                self.emit('if value.__class__ is str:', 3)
                self.emit('value = value.encode()', 4)
                self.emit('if len(value) > 255:', 4)
                self.emit('data.short_string_too_long(value)', 5)
                self.emit('else:', 3)
                self.emit(
                    "value = data.short_string_bytes(value, 'self.%s')" % name,
                    4)
                self.emit('pieces.append(_BYTE[len(value)])', 3)
                self.emit('pieces.append(value)', 3)
            elif kind == 'table':
                self.emit('pieces.append(_table_bytes(value))', 3)
            elif name == 'delivery_mode':
                # Checked here, on the way out of every publish path: the
                # broker closes the channel (406) on any other value.
                self.emit(
                    'if value.__class__ is not int or not 1 <= value <= 2:', 3)
                self.emit('value = _delivery_mode(value)', 4)
                self.emit('pieces.append(_BYTE[value])', 3)
            elif FIXED[kind] == 'B':
                self.emit(
                    'if value.__class__ is not int or not 0 <= value <= 255:',
                    3)
                self.emit("value = _octet(value, '%s')" % name, 4)
                self.emit('pieces.append(_BYTE[value])', 3)
            else:
                fmt = FIXED[kind]
                self.emit(
                    'pieces.append(%s.pack(value))' % self.struct_name(fmt), 3)
        self.emit('if not flags:', 2)
        self.emit("return b'\\x00\\x00'", 3)
        self.emit('pieces[0] = _S_H.pack(flags)', 2)
        self.emit('return b\'\'.join(pieces)', 2)
        specialised = self.gen_specialised_decoders(class_name, props, flags)
        self.emit('')
        self.emit('# flags word -> its generated decoder', 1)
        self.emit('_SPECIALISED: Dict[int, Any] = {', 1)
        for flag_word, function in specialised:
            self.emit('0x%04X: %s,' % (flag_word, function), 2)
        self.emit('}', 1)

    # -- module -----------------------------------------------------------
    def generate(self) -> str:
        spec = self.spec
        for cls in spec['classes']:
            self.gen_class(cls)
            if cls.get('properties'):
                self.gen_properties(cls)
        head: List[str] = []
        head.append('"""AMQP 0-9-1 classes, methods and content properties.')
        head.append('')
        head.append('GENERATED by utils/codegen.py from '
                    'utils/spec/amqp-rabbitmq-0.9.1.json;')
        head.append('do not edit by hand, run ``python3 utils/codegen.py``.')
        head.append('')
        head.append('The protocol definition it is generated from is '
                    'MPL-2.0 licensed (see')
        head.append('utils/spec/LICENSE); this module is part of pika.')
        head.append('"""')
        head.append('# ruff: noqa: E501')
        head.append('# yapf: disable')
        head.append('import struct')
        head.append('from typing import (Any, Callable, Dict, List, Literal, '
                    'Optional,')
        head.append('                    Union)')
        head.append('')
        head.append('from pika import amqp_object, data, exceptions')
        head.append('from pika.delivery_mode import DeliveryMode')
        head.append('from pika.exchange_type import ExchangeType')
        head.append('# Names pika 1.4.4 has in this module, kept for '
                    '``from ... import *``.')
        head.append('from pika.compat import as_bytes, str_or_bytes  '
                    '# noqa: F401')
        head.append('')
        head.append(
            '# The default of method fields that the wire always carries: None,'
        )
        head.append(
            '# typed Any so that each field is annotated with its value type.')
        head.append('_NO_VALUE: Any = None')
        head.append('')
        head.append(
            'PROTOCOL_VERSION = (%d, %d, %d)' %
            (spec['major-version'], spec['minor-version'], spec['revision']))
        head.append('PORT = %d' % spec['port'])
        head.append('')
        for constant in spec['constants']:
            head.append('%s = %d' %
                        (constname(constant['name']), constant['value']))
        head.append('FRAME_MAX_SIZE = 131072')
        head.append('FRAME_HEADER_SIZE = 7')
        head.append('FRAME_END_SIZE = 1')
        head.append('')
        head.append('# Basic.Properties.delivery_mode values')
        head.append('TRANSIENT_DELIVERY_MODE = 1')
        head.append('PERSISTENT_DELIVERY_MODE = 2')
        head.append('')
        head.append('_BYTE = data.BYTE')
        head.append('_decode_table = data._decode_table')
        head.append('_table_bytes = data.table_bytes')
        for fmt in sorted(self.structs):
            head.append("%s = struct.Struct('>%s')" % (self.structs[fmt], fmt))
        head.append('')
        head.append('')
        head.extend(HELPERS.strip('\n').split('\n'))
        tail: List[str] = ['', '']
        tail.append('methods = {')
        content: List[str] = []
        for cls in spec['classes']:
            for method in cls['methods']:
                index = (cls['id'] << 16) | method['id']
                tail.append('    0x%08X: %s.%s,' %
                            (index, camel(cls['name']), camel(method['name'])))
                if method.get('content'):
                    content.append('0x%08X' % index)
        tail.append('}')
        tail.append('')
        tail.append('props = {')
        for cls in spec['classes']:
            if cls.get('properties'):
                tail.append('    0x%04X: %sProperties,' %
                            (cls['id'], camel(cls['name'])))
        tail.append('}')
        tail.append('')
        tail.append('_CONTENT_METHODS = frozenset((%s,))' % ', '.join(content))
        tail.append('')
        tail.append('')
        tail.append('def has_content(methodNumber: int) -> bool:')
        tail.append('    """Whether the method with INDEX ``methodNumber`` '
                    'carries content.')
        tail.append('')
        tail.append('    :param int methodNumber: The method INDEX')
        tail.append('    :rtype: bool')
        tail.append('')
        tail.append('    """')
        tail.append('    return methodNumber in _CONTENT_METHODS')
        lines = head + self.body + tail
        return '\n'.join(lines).rstrip('\n') + '\n'


def generate(spec_path: str = SPEC_PATH) -> str:
    """Return the source of pika/spec.py generated from ``spec_path``."""
    with open(spec_path, encoding='utf-8') as spec_file:
        spec = json.load(spec_file)
    return Generator(spec).generate()


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    output = argv[0] if argv else DEFAULT_OUTPUT
    source = generate()
    with open(output, 'w', encoding='utf-8', newline='\n') as out_file:
        out_file.write(source)
    return 0


if __name__ == '__main__':
    sys.exit(main())
