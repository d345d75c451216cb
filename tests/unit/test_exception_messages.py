"""Every exception users can see says what happened, with pika's args/repr.

pika 1.4 leaves ``str()`` empty for errors raised without arguments and for
a refused connection (an error wrapping a connector error whose own text is
empty).  Ours fills the gap with a description and what to check, without
touching ``args`` or ``repr``.
"""

import inspect

import pytest

from pika import exceptions
from pika.adapters.utils import connection_workflow as workflow

_NEEDS_ARGS = {
    'ConnectionClosed': (320, 'CONNECTION_FORCED'),
    'ConnectionClosedByBroker': (320, 'CONNECTION_FORCED'),
    'ConnectionClosedByClient': (200, 'Normal shutdown'),
    'ChannelClosed': (406, 'PRECONDITION_FAILED'),
    'ChannelClosedByBroker': (404, 'NOT_FOUND'),
    'ChannelClosedByClient': (200, 'Normal shutdown'),
    'UnroutableError': ([],),
    'NackError': ([],),
}


def _public_exception_classes():
    for name, value in vars(exceptions).items():
        if (inspect.isclass(value) and issubclass(value, BaseException) and
                not name.startswith('_') and
                value.__module__ == exceptions.__name__):
            yield name, value


@pytest.mark.parametrize('name,cls', sorted(_public_exception_classes()))
def test_every_exception_has_a_message_even_without_arguments(name, cls):
    error = cls(*_NEEDS_ARGS.get(name, ()))
    text = str(error)
    assert text.strip(), name
    assert not text.startswith('Base class'), text


def test_args_and_repr_stay_as_pika_has_them():
    error = exceptions.NoFreeChannels()
    assert error.args == ()
    assert repr(error) == ('NoFreeChannels: The connection has run out of '
                           'free channels')
    assert 'channel_max' in str(error)
    wrong = exceptions.ConnectionWrongStateError()
    assert repr(wrong) == ('ConnectionWrongStateError: The connection is in '
                           'wrong state for the requested operation.')
    assert 'is_open' in str(wrong)


def test_a_message_given_by_the_raiser_is_kept_verbatim():
    assert str(exceptions.ChannelWrongStateError('Channel is closed.')) == (
        'Channel is closed.')
    closed = exceptions.ChannelClosedByBroker(404, 'NOT_FOUND - no queue')
    assert str(closed) == "(404, 'NOT_FOUND - no queue')"
    assert closed.args == (404, 'NOT_FOUND - no queue')


def test_refused_connection_says_what_failed_and_what_to_check():
    refused = ConnectionRefusedError(111, 'Connection refused')
    inner = workflow.AMQPConnectorSocketConnectError(refused)
    error = exceptions.AMQPConnectionError(inner)
    assert error.args == (inner,)
    assert repr(error) == ("AMQPConnectionError: (AMQPConnectorSocketConnect"
                           "Error: ConnectionRefusedError(111, 'Connection "
                           "refused'),)")
    text = str(error)
    assert 'TCP connection' in text and 'Connection refused' in text
    assert 'host and port' in text


def test_connector_errors_name_the_address_they_tried_outside_args_and_repr():
    error = workflow.AMQPConnectorSocketConnectError(
        ConnectionRefusedError(111, 'Connection refused'))
    error.where = 'localhost (127.0.0.1) port 5673'
    assert str(error).startswith(
        'Could not open a TCP connection to the broker (localhost '
        "(127.0.0.1) port 5673: ConnectionRefusedError(111, 'Connection "
        "refused')); check ")
    assert error.args == ()
    assert repr(error) == ("AMQPConnectorSocketConnectError: "
                           "ConnectionRefusedError(111, 'Connection refused')")


@pytest.mark.parametrize('cls,words', [
    (workflow.AMQPConnectorTransportSetupError, 'TLS'),
    (workflow.AMQPConnectorAMQPHandshakeError, 'handshake'),
])
def test_each_connector_phase_names_itself(cls, words):
    error = cls(OSError('boom'))
    assert words in str(error) and 'boom' in str(error)
    assert repr(error) == "%s: OSError('boom')" % cls.__name__


def test_workflow_failure_names_a_host_that_did_not_resolve():
    import socket
    error = workflow.AMQPConnectionWorkflowFailed(
        [socket.gaierror(-2, 'Name or service not known')])
    assert str(error) == ('All 1 connection attempt(s) failed; the last: '
                          '[Errno -2] Name or service not known')
    error.unresolved_host = 'broker.example'
    assert str(error) == (
        "All 1 connection attempt(s) failed; the last: could not resolve the "
        "host name 'broker.example' ([Errno -2] Name or service not known); "
        'check the host of the connection parameters')
    assert error.args == ()


def test_workflow_failure_names_the_attempts_and_the_last_error():
    last = workflow.AMQPConnectorSocketConnectError(ConnectionRefusedError())
    error = workflow.AMQPConnectionWorkflowFailed([OSError('first'), last])
    assert str(error).startswith('All 2 connection attempt(s) failed')
    assert 'TCP connection' in str(error)


@pytest.mark.parametrize('error,pika_text,check', [
    (exceptions.ProbableAuthenticationError(
        "ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was "
        "refused'"), "ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login "
     "was refused'", 'user name and password'),
    (exceptions.ProbableAccessDeniedError(
        "ConnectionClosedByBroker: (530) 'NOT_ALLOWED - vhost x not found'"),
     "ConnectionClosedByBroker: (530) 'NOT_ALLOWED - vhost x not found'",
     'virtual host exists'),
    (exceptions.UnroutableError(
        ['m']), '1 unroutable message(s) returned', 'routing key'),
    (exceptions.NackError([]), '0 message(s) NACKed', 'Basic.Nack'),
    (exceptions.StreamLostError(
        "Stream connection lost: ConnectionResetError(104, 'Connection reset "
        "by peer')"), "Stream connection lost: ConnectionResetError(104, "
     "'Connection reset by peer')", 'network path'),
    (exceptions.AMQPHeartbeatTimeout(
        'No activity or too many missed heartbeats in the last 60 seconds'),
     'No activity or too many missed heartbeats in the last 60 seconds',
     'longer heartbeat'),
    (exceptions.ConnectionBlockedTimeout('Blocked connection timeout expired.'),
     'Blocked connection timeout expired.', 'rabbitmq-diagnostics alarms'),
    (exceptions.ConfirmationLost(['m', 'n']),
     '2 message(s) with lost confirmation', 'may or may not have them'),
])
def test_broker_words_and_counts_are_followed_by_what_to_check(
        error, pika_text, check):
    # pika's text (the broker's reply, a count) comes first, unchanged, and
    # stays the only argument; the advice follows it in str() only.
    assert error.args == (pika_text,)
    assert str(error).startswith(pika_text + '; ')
    assert check in str(error)
    assert check not in repr(error)


@pytest.mark.parametrize('cls', [
    exceptions.UnexpectedFrameError, exceptions.ProtocolVersionMismatch,
    exceptions.BodyTooLongError, exceptions.InvalidFrameError,
    exceptions.InvalidFieldTypeException
])
def test_protocol_errors_without_arguments_name_their_own_failure(cls):
    text = str(cls())
    # the class's own description, not the base class's generic words
    assert not text.startswith('An unspecified'), text
    assert 'first argument' not in text
    assert 'RabbitMQ AMQP listener' in text
    assert repr(cls()) == ('%s: An unspecified protocol syntax error '
                           'occurred' % cls.__name__)


def test_unencodable_field_value_lists_the_types_that_encode():
    text = str(exceptions.UnsupportedAMQPFieldException())
    assert text.startswith('A value cannot be encoded into a field table; ')
    assert 'decimal.Decimal' in text
