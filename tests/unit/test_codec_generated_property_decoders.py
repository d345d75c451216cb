"""The generated property decoders (one per common set of properties, plain
source in pika/spec.py, no code compiled at run time) decode exactly as the
generic decoder does; any other flags word uses the generic decoder."""

import inspect
import struct

import pytest

from pika import spec
from tests.unit.test_codec_fastpath import _props_for

SPECIALISED = sorted(spec.BasicProperties._SPECIALISED.items())


def test_every_subset_of_the_common_properties_has_a_decoder():
    assert len(SPECIALISED) == 32
    assert 0x0000 in spec.BasicProperties._SPECIALISED
    assert 0xB000 in spec.BasicProperties._SPECIALISED  # type, headers, mode
    assert 0x9600 in spec.BasicProperties._SPECIALISED  # + reply_to, corr id


@pytest.mark.parametrize('flags, decoder', SPECIALISED)
def test_specialised_decoder_equals_generic(flags, decoder):
    encoded = b''.join(_props_for(flags).encode()) + b'\xce'
    assert struct.unpack_from('>H', encoded)[0] == flags
    generic = object.__new__(spec.BasicProperties)
    generic_end = generic._decode_properties(encoded, 2, flags)
    decoded = object.__new__(spec.BasicProperties)
    assert decoder(decoded, encoded, 2) == generic_end == len(encoded) - 1
    assert list(vars(decoded).items()) == list(vars(generic).items())
    assert spec._compile_decoder(spec.BasicProperties, flags) is decoder


def test_other_flags_words_use_the_generic_decoder(monkeypatch):
    monkeypatch.setattr(spec.BasicProperties, '_DECODERS', {})
    flags = 0x0880  # priority, message_id: not a common set
    assert flags not in spec.BasicProperties._SPECIALISED
    encoded = b''.join(_props_for(flags).encode())
    decoder = spec._compile_decoder(spec.BasicProperties, flags)
    decoded = object.__new__(spec.BasicProperties)
    assert decoder(decoded, encoded, 2) == len(encoded)
    assert decoded.priority == 9 and decoded.message_id == 'm'
    assert spec.BasicProperties._DECODERS[flags] is decoder


def test_spec_compiles_no_code_at_run_time():
    source = inspect.getsource(spec)
    assert 'exec(' not in source and 'compile(' not in source
