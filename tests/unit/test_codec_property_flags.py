"""Content header property flags: bit 0 of a flags word says another flags
word follows (AMQP 0-9-1 content header format); the properties after the
last word decode as usual."""

import struct

import pytest

from pika import exceptions, frame, spec

CONTENT_TYPE = b'\x0atext/plain'


def _header(words, properties, body_size=5):
    # Built by hand: our encoder never writes a continuation word.
    payload = (struct.pack('>HHQ', 60, 0, body_size) +
               b''.join(struct.pack('>H', word) for word in words) + properties)
    return struct.pack('>BHI', 2, 1, len(payload)) + payload + b'\xce'


CASES = [
    ([0x9001, 0x0000], CONTENT_TYPE + b'\x02', 'text/plain', 2),
    ([0x9001, 0x0001, 0x8000], CONTENT_TYPE + b'\x02', 'text/plain', 2),
    ([0x0001, 0x0000], b'', None, None),
    ([0x1001, 0x0000], b'\x01', None, 1),
]


@pytest.mark.parametrize('words, properties, content_type, delivery_mode',
                         CASES)
def test_continuation_words_are_skipped(words, properties, content_type,
                                        delivery_mode):
    raw = _header(words, properties)
    for decoded in (frame.decode_frame(raw)[1], frame.decode_frames(raw)[0][0]):
        assert decoded.body_size == 5
        assert decoded.properties.content_type == content_type
        assert decoded.properties.delivery_mode == delivery_mode
        assert decoded.properties.headers is None
    assert frame.decode_frames(raw)[1] == len(raw)


@pytest.mark.parametrize('words, properties, content_type, delivery_mode',
                         CASES)
def test_generic_decoder_skips_continuation_words(words, properties,
                                                  content_type, delivery_mode):
    # The decoder used once the specialised decoders' cache is full.
    encoded = b''.join(
        struct.pack('>H', word) for word in words[1:]) + properties
    props = spec.BasicProperties()
    assert props._decode_properties(encoded, 0, words[0]) == len(encoded)
    assert props.content_type == content_type
    assert props.delivery_mode == delivery_mode


def test_missing_continuation_word_is_an_invalid_frame():
    with pytest.raises(exceptions.InvalidFrameError):
        frame.decode_frames(_header([0x8001], CONTENT_TYPE))


def test_common_flags_keep_their_specialised_decoder():
    raw = frame.Header(
        1, 5, spec.BasicProperties(content_type='text/plain',
                                   delivery_mode=2)).marshal()
    frame.decode_frames(raw)
    assert 0x9000 in spec.BasicProperties._DECODERS
    assert frame.decode_frames(raw)[0][0].properties.delivery_mode == 2
