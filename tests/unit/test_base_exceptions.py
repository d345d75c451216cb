"""pika.exceptions: hierarchy, constructors and repr texts as in pika 1.4."""

import pickle

import pytest

from pika import exceptions as exc

# (class, base) pairs of the pika 1.4 hierarchy.
HIERARCHY = [
    (exc.AMQPError, Exception),
    (exc.AMQPConnectionError, exc.AMQPError),
    (exc.ConnectionOpenAborted, exc.AMQPConnectionError),
    (exc.StreamLostError, exc.AMQPConnectionError),
    (exc.IncompatibleProtocolError, exc.AMQPConnectionError),
    (exc.AuthenticationError, exc.AMQPConnectionError),
    (exc.ProbableAuthenticationError, exc.AMQPConnectionError),
    (exc.ProbableAccessDeniedError, exc.AMQPConnectionError),
    (exc.NoFreeChannels, exc.AMQPConnectionError),
    (exc.ConnectionWrongStateError, exc.AMQPConnectionError),
    (exc.WorkQueueFullError, exc.AMQPConnectionError),
    (exc.ConnectionClosed, exc.AMQPConnectionError),
    (exc.ConnectionClosedByBroker, exc.ConnectionClosed),
    (exc.ConnectionClosedByClient, exc.ConnectionClosed),
    (exc.ConnectionBlockedTimeout, exc.AMQPConnectionError),
    (exc.AMQPHeartbeatTimeout, exc.AMQPConnectionError),
    # automatic recovery (pika.recovery), not in pika 1.4
    (exc.ConnectionRecovering, exc.AMQPConnectionError),
    (exc.ConfirmationLost, exc.AMQPError),
    (exc.AMQPChannelError, exc.AMQPError),
    (exc.ChannelWrongStateError, exc.AMQPChannelError),
    (exc.ChannelClosed, exc.AMQPChannelError),
    (exc.ChannelClosedByBroker, exc.ChannelClosed),
    (exc.ChannelClosedByClient, exc.ChannelClosed),
    (exc.DuplicateConsumerTag, exc.AMQPChannelError),
    (exc.ConsumerCancelled, exc.AMQPChannelError),
    (exc.UnroutableError, exc.AMQPChannelError),
    (exc.NackError, exc.AMQPChannelError),
    (exc.InvalidChannelNumber, exc.AMQPError),
    (exc.ProtocolSyntaxError, exc.AMQPError),
    (exc.UnexpectedFrameError, exc.ProtocolSyntaxError),
    (exc.ProtocolVersionMismatch, exc.ProtocolSyntaxError),
    (exc.BodyTooLongError, exc.ProtocolSyntaxError),
    (exc.InvalidFrameError, exc.ProtocolSyntaxError),
    (exc.InvalidFieldTypeException, exc.ProtocolSyntaxError),
    (exc.UnsupportedAMQPFieldException, exc.ProtocolSyntaxError),
    (exc.MethodNotImplemented, exc.AMQPError),
    (exc.ChannelError, Exception),
    (exc.ReentrancyError, Exception),
    (exc.ShortStringTooLong, exc.AMQPError),
    (exc.DuplicateGetOkCallback, exc.ChannelError),
]


@pytest.mark.parametrize('cls, base', HIERARCHY)
def test_direct_base_class(cls, base):
    assert cls.__bases__ == (base,)
    assert cls.__module__ == 'pika.exceptions'


def test_every_exception_class_is_in_the_hierarchy():
    defined = {
        value for value in vars(exc).values()
        if isinstance(value, type) and issubclass(value, BaseException) and
        value.__module__ == exc.__name__ and not value.__name__.startswith('_')
    }
    assert defined == {cls for cls, _base in HIERARCHY}


@pytest.mark.parametrize('cls', [
    exc.ConnectionClosed, exc.ConnectionClosedByBroker,
    exc.ConnectionClosedByClient, exc.ChannelClosed, exc.ChannelClosedByBroker,
    exc.ChannelClosedByClient
])
def test_closed_reply_code_and_text(cls):
    error = cls(320, 'CONNECTION_FORCED - shutdown')
    assert error.reply_code == 320
    assert error.reply_text == 'CONNECTION_FORCED - shutdown'
    assert error.args == (320, 'CONNECTION_FORCED - shutdown')
    assert repr(
        error) == "%s: (320) 'CONNECTION_FORCED - shutdown'" % (cls.__name__)
    assert str(error) == "(320, 'CONNECTION_FORCED - shutdown')"
    with pytest.raises(AttributeError):
        error.reply_code = 1


@pytest.mark.parametrize('cls', [exc.ConnectionClosed, exc.ChannelClosed])
def test_closed_coerces_code_and_text(cls):
    error = cls('404', 5)
    assert error.reply_code == 404
    assert error.reply_text == '5'
    with pytest.raises(ValueError):
        cls('not-a-number', 'text')
    with pytest.raises(TypeError):
        cls(200)  # pylint: disable=no-value-for-parameter


def test_closed_keyword_arguments():
    error = exc.ChannelClosedByBroker(reply_code=404, reply_text='NOT_FOUND')
    assert (error.reply_code, error.reply_text) == (404, 'NOT_FOUND')


@pytest.mark.parametrize('cls, text', [
    (exc.UnroutableError, '2 unroutable message(s) returned'),
    (exc.NackError, '2 message(s) NACKed'),
])
def test_unroutable_and_nack_keep_messages(cls, text):
    messages = ['m1', 'm2']
    error = cls(messages)
    assert error.messages is messages
    # pika's text first, then what to check (pika stops after the count).
    assert str(error).startswith(text + '; ')
    assert error.args == (text,)
    assert repr(error) == ('%s: 2 unroutable messages returned by broker' %
                           cls.__name__)


@pytest.mark.parametrize('error, expected', [
    (exc.AMQPError('x'),
     "AMQPError: An unspecified AMQP error has occurred; ('x',)"),
    (exc.AMQPConnectionError('x'), "AMQPConnectionError: ('x',)"),
    (exc.AMQPConnectionError(1, 'text'), 'AMQPConnectionError: (1) text'),
    (exc.StreamLostError('Stream connection lost'),
     "StreamLostError: ('Stream connection lost',)"),
    (exc.AMQPHeartbeatTimeout('gone'), "AMQPHeartbeatTimeout: ('gone',)"),
    (exc.AMQPChannelError('a', 'b'), "AMQPChannelError: ('a', 'b')"),
    (exc.ChannelWrongStateError('closed'),
     "ChannelWrongStateError: ('closed',)"),
    (exc.ConnectionWrongStateError(),
     'ConnectionWrongStateError: The connection is in wrong state for the '
     'requested operation.'),
    (exc.ConnectionWrongStateError('x'), "ConnectionWrongStateError: ('x',)"),
    (exc.AuthenticationError('PLAIN'),
     'AuthenticationError: Server and client could not negotiate use of the '
     'PLAIN authentication mechanism'),
    (exc.ProbableAuthenticationError('r'),
     'ProbableAuthenticationError: Client was disconnected at a connection '
     "stage indicating a probable authentication error: ('r',)"),
    (exc.ProbableAccessDeniedError('r'),
     'ProbableAccessDeniedError: Client was disconnected at a connection '
     'stage indicating a probable denial of access to the specified virtual '
     "host: ('r',)"),
    (exc.IncompatibleProtocolError('r'),
     'IncompatibleProtocolError: The protocol returned by the server is not '
     "supported: ('r',)"),
    (exc.NoFreeChannels(),
     'NoFreeChannels: The connection has run out of free channels'),
    (exc.DuplicateConsumerTag('ctag'),
     'DuplicateConsumerTag: The consumer tag specified already exists for '
     'this channel: ctag'),
    (exc.ConsumerCancelled('x'), 'ConsumerCancelled: Server cancelled '
     'consumer'),
    (exc.InvalidChannelNumber(7),
     'InvalidChannelNumber: An invalid channel number has been specified: 7'),
    (exc.ProtocolSyntaxError('x'),
     'ProtocolSyntaxError: An unspecified protocol syntax error occurred'),
    (exc.UnexpectedFrameError('frame'),
     "UnexpectedFrameError: Received a frame out of sequence: 'frame'"),
    (exc.ProtocolVersionMismatch('a', 'b'),
     "ProtocolVersionMismatch: Protocol versions did not match: 'a' vs 'b'"),
    (exc.BodyTooLongError(10, 5),
     'BodyTooLongError: Received too many bytes for a message delivery: '
     'Received 10, expected 5'),
    (exc.InvalidFrameError('bad'),
     "InvalidFrameError: Invalid frame received: 'bad'"),
    (exc.InvalidFieldTypeException('Z'),
     'InvalidFieldTypeException: Unsupported field kind Z'),
    (exc.UnsupportedAMQPFieldException([], object()),
     "UnsupportedAMQPFieldException: Unsupported field kind <class "
     "'object'>"),
    (exc.MethodNotImplemented('x'),
     "MethodNotImplemented: An unspecified AMQP error has occurred; ('x',)"),
    (exc.ChannelError(),
     'ChannelError: An unspecified error occurred with the Channel'),
    (exc.ReentrancyError('x'), "ReentrancyError('x')"),
    (exc.ShortStringTooLong('s'),
     'ShortStringTooLong: AMQP Short String can contain up to 255 bytes: s'),
    (exc.DuplicateGetOkCallback(),
     'DuplicateGetOkCallback: basic_get can only be called again after the '
     'callback for the previous basic_get is executed'),
])
def test_repr_texts(error, expected):
    assert repr(error) == expected


@pytest.mark.parametrize('cls', [
    exc.AuthenticationError, exc.DuplicateConsumerTag, exc.InvalidChannelNumber,
    exc.UnexpectedFrameError, exc.ProtocolVersionMismatch, exc.BodyTooLongError,
    exc.InvalidFrameError, exc.InvalidFieldTypeException,
    exc.UnsupportedAMQPFieldException, exc.ShortStringTooLong
])
def test_repr_never_raises_without_arguments(cls):
    # pika 1.4 raises IndexError here; we fall back to the generic text.
    assert repr(cls()).startswith(cls.__name__ + ':')
    assert str(cls()).strip()  # issue 14: never an empty message


def test_str_is_exception_str():
    assert str(exc.StreamLostError('lost')) == (
        'lost; check the network path to the broker and the broker log')
    assert str(exc.AMQPConnectionError('a', 'b')) == "('a', 'b')"


@pytest.mark.parametrize('error', [
    exc.ConnectionClosedByBroker(320, 'forced'),
    exc.ChannelClosedByClient(200, 'Normal shutdown'),
    exc.StreamLostError('lost'),
    exc.AMQPHeartbeatTimeout('no heartbeat'),
])
def test_pickle_round_trip(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert copy.args == error.args
