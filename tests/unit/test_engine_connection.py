"""Connection engine: handshake, tuning, closing, errors (scripted bytes)."""

import platform

import pytest

import pika
from pika import connection, credentials, exceptions, frame, spec
from engine_fake import (OPEN_OK, FakeConnection, Recorder, content_bytes,
                         make_connection, method_bytes, open_channel,
                         open_connection, start_bytes, tune_bytes)

Params = connection.ConnectionParameters


def assert_stream_lost(error, inner):
    """pika 1.4 reports malformed peer bytes as a lost stream."""
    assert type(error) is exceptions.StreamLostError
    assert error.args[0].startswith('Stream connection lost: %s' % inner)


def test_reexports_and_product():
    from pika import parameters
    assert connection.Parameters is parameters.Parameters
    assert connection.ConnectionParameters is parameters.ConnectionParameters
    assert connection.URLParameters is parameters.URLParameters
    assert connection.SSLOptions is parameters.SSLOptions
    assert connection.PRODUCT == 'Pika Python Client Library'


def test_init_starts_stream_and_state_init():
    conn = make_connection()
    assert conn.events == ['connect_stream']
    assert conn.connection_state == conn.CONNECTION_INIT
    assert not (conn.is_open or conn.is_closed or conn.is_closing)


def test_external_workflow_does_not_connect():
    conn = FakeConnection(Params(), internal_connection_workflow=False)
    assert conn.events == []


def test_init_argument_checks():
    with pytest.raises(TypeError, match='parameters'):
        FakeConnection(parameters=1)
    with pytest.raises(TypeError, match='callable'):
        FakeConnection(Params(), on_open_callback=1)
    with pytest.raises(TypeError, match='callable'):
        FakeConnection(Params(), on_close_callback='x')


def test_default_parameters():
    conn = FakeConnection()
    assert isinstance(conn.params, connection.ConnectionParameters)


def test_full_handshake_bytes_and_callbacks():
    conn = make_connection(Params(client_properties={'connection_name': 'x'}))
    conn._on_stream_connected()
    assert conn.connection_state == conn.CONNECTION_PROTOCOL
    assert conn.written == [b'AMQP\x00\x00\x09\x01']
    conn.written = []
    conn.feed(start_bytes())
    assert conn.connection_state == conn.CONNECTION_START
    (start_ok,) = conn.sent_methods()
    assert isinstance(start_ok, spec.Connection.StartOk)
    assert start_ok.mechanism == 'PLAIN'
    assert start_ok.response == b'\x00guest\x00guest'
    assert start_ok.locale == 'en_US'
    props = start_ok.client_properties
    # pika 1.4.4's keys; the values name this library, not pika
    assert props['product'] == ('pika drop-in: pure-Python AMQP 0-9-1 client '
                                '(pika 1.4 compatible)')
    assert props['platform'] == 'Python %s' % platform.python_version()
    assert props['version'] == pika.__version__ == '2.0.0b1'
    assert props['information'].startswith('A drop-in replacement for pika')
    assert props['connection_name'] == 'x'
    assert props['capabilities'] == {
        'authentication_failure_close': True,
        'basic.nack': True,
        'connection.blocked': True,
        'consumer_cancel_notify': True,
        'exchange_exchange_bindings': True,
        'publisher_confirms': True,
    }
    conn.feed(tune_bytes(2047, 131072, 60))
    tune_ok, open_method = conn.sent_methods()
    assert (tune_ok.channel_max, tune_ok.frame_max,
            tune_ok.heartbeat) == (2047, 131072, 60)
    assert isinstance(open_method, spec.Connection.Open)
    assert open_method.virtual_host == '/'
    assert open_method.insist is True
    assert conn.connection_state == conn.CONNECTION_TUNE
    assert conn.rec.calls == []
    conn.feed(OPEN_OK)
    assert conn.is_open
    assert conn.rec.calls == [('open', conn)]
    assert conn.basic_nack and conn.publisher_confirms
    assert conn.consumer_cancel_notify and conn.exchange_exchange_bindings


def test_handshake_byte_by_byte():
    conn = make_connection()
    conn._on_stream_connected()
    for data in (start_bytes(), tune_bytes(), OPEN_OK):
        for i in range(len(data)):
            conn.feed(data[i:i + 1])
    assert conn.is_open


def test_capabilities_absent():
    conn = make_connection()
    conn._on_stream_connected()
    conn.feed(start_bytes(capabilities={}))
    conn.feed(tune_bytes())
    conn.feed(OPEN_OK)
    assert not conn.basic_nack
    assert not conn.publisher_confirms


@pytest.mark.parametrize('client,server,expected', [
    ((65535, 131072), (2047, 131072), (2047, 131072)),
    ((100, 8192), (0, 0), (100, 8192)),
    ((65535, 131072), (10, 4096), (10, 4096)),
    ((10, 4096), (20, 8192), (10, 4096)),
])
def test_tune_negotiation_smaller_non_zero(client, server, expected):
    params = Params(heartbeat=0, channel_max=client[0], frame_max=client[1])
    conn = make_connection(params)
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.sent()
    conn.feed(tune_bytes(server[0], server[1], 0))
    tune_ok = conn.sent_methods()[0]
    assert (tune_ok.channel_max, tune_ok.frame_max) == expected
    assert (conn.params.channel_max, conn.params.frame_max) == expected


@pytest.mark.parametrize('client,server,expected', [
    (None, 30, 30),
    (None, 0, 0),
    (10, 30, 10),
    (0, 30, 0),
    (100, 30, 100),
])
def test_heartbeat_negotiation(client, server, expected):
    conn = make_connection(Params(heartbeat=client))
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.sent()
    conn.feed(tune_bytes(0, 0, server))
    assert conn.sent_methods()[0].heartbeat == expected
    assert (conn._heartbeat_checker is not None) == bool(expected)


def test_heartbeat_callable_decides():
    seen = []

    def decide(conn, server_value):
        seen.append((conn, server_value))
        return 7

    conn = make_connection(Params(heartbeat=decide))
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.sent()
    conn.feed(tune_bytes(0, 0, 42))
    assert seen == [(conn, 42)]
    assert conn.sent_methods()[0].heartbeat == 7
    assert conn.params.heartbeat == 7


def test_frame_max_applies_to_publish_split():
    conn = open_connection(tune=tune_bytes(0, 4096, 0))
    chan = open_channel(conn)
    chan.basic_publish('', 'q', b'a' * 10000)
    assert len(conn.written) == 1
    frames = conn.sent()
    assert [f.frame_type for f in frames] == [1, 2, 3, 3, 3]
    assert [len(f.fragment) for f in frames[2:]] == [4088, 4088, 1824]


def test_external_mechanism_selected():
    conn = make_connection(
        Params(credentials=credentials.ExternalCredentials()))
    conn._on_stream_connected()
    conn.sent()
    conn.feed(start_bytes(mechanisms=b'PLAIN EXTERNAL'))
    (start_ok,) = conn.sent_methods()
    assert start_ok.mechanism == 'EXTERNAL'
    assert start_ok.response == b''


def test_no_matching_mechanism_authentication_error():
    conn = make_connection(
        Params(credentials=credentials.ExternalCredentials()))
    conn._on_stream_connected()
    conn.sent()
    conn.feed(start_bytes(mechanisms=b'PLAIN AMQPLAIN'))
    assert conn.sent() == []
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is exceptions.AuthenticationError
    assert error.args == ('EXTERNAL',)
    assert conn.is_closed


@pytest.mark.parametrize('steps,expected', [
    (1, exceptions.IncompatibleProtocolError),
    (2, exceptions.ProbableAuthenticationError),
    (3, exceptions.ProbableAccessDeniedError),
])
def test_stream_lost_while_opening(steps, expected):
    conn = make_connection()
    actions = [
        conn._on_stream_connected, lambda: conn.feed(start_bytes()),
        lambda: conn.feed(tune_bytes())
    ]
    for action in actions[:steps]:
        action()
    lost = exceptions.StreamLostError('lost it')
    conn._on_stream_terminated(lost)
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is expected
    assert error.args == (repr(lost),)
    assert conn.rec.only('close') == []
    assert conn.is_closed


def test_broker_refuses_login_during_start():
    conn = make_connection()
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.sent()
    conn.feed(
        method_bytes(0, spec.Connection.Close(403, 'ACCESS_REFUSED', 0, 0)))
    assert isinstance(conn.sent_methods()[0], spec.Connection.CloseOk)
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is exceptions.ProbableAuthenticationError
    assert error.args == ("ConnectionClosedByBroker: (403) 'ACCESS_REFUSED'",)


def test_broker_refuses_vhost():
    conn = make_connection(Params(virtual_host='nope'))
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes())
    assert conn.sent_methods()[-1].virtual_host == 'nope'
    conn.feed(
        method_bytes(
            0, spec.Connection.Close(530, 'NOT_ALLOWED - vhost nope', 10, 40)))
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is exceptions.ProbableAccessDeniedError
    assert '530' in error.args[0]


def test_default_open_error_callback_raises():
    conn = FakeConnection(Params())
    conn._on_stream_connected()
    with pytest.raises(exceptions.IncompatibleProtocolError):
        conn._on_stream_terminated(exceptions.StreamLostError('x'))


def test_open_error_callback_keep_default():
    conn = FakeConnection(Params())
    rec = Recorder()
    conn.add_on_open_error_callback(rec('err'), remove_default=False)
    conn._on_stream_connected()
    with pytest.raises(exceptions.IncompatibleProtocolError):
        conn._on_stream_terminated(exceptions.StreamLostError('x'))


def test_protocol_header_reply_is_incompatible_protocol():
    conn = make_connection()
    conn._on_stream_connected()
    conn.sent()
    conn.feed(b'AMQP\x00\x00\x08\x00')
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is exceptions.IncompatibleProtocolError
    assert '0-8-0' in repr(error)


@pytest.mark.parametrize('state_steps', [0, 1, 2, 3])
def test_close_while_opening_aborts(state_steps):
    conn = make_connection()
    actions = [
        conn._on_stream_connected, lambda: conn.feed(start_bytes()),
        lambda: conn.feed(tune_bytes())
    ]
    for action in actions[:state_steps]:
        action()
    conn.sent()
    names = ['INIT', 'PROTOCOL', 'START', 'TUNE']
    conn.close()
    assert conn.sent() == []
    assert conn.is_closing
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.close()
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is exceptions.ConnectionOpenAborted
    assert error.args == (
        "Connection.close() called before connection finished opening: "
        "prev_state=%s (200): 'Normal shutdown'" % names[state_steps],)
    assert conn.is_closed
    assert conn.active_timers() == []
    with pytest.raises(exceptions.ConnectionWrongStateError,
                       match='state=CLOSED'):
        conn.close()


def test_client_close_closes_channels_first():
    conn = open_connection()
    rec = conn.rec
    ch1 = open_channel(conn)
    ch2 = conn.channel(on_open_callback=rec('ch2_open'))
    ch2.add_on_close_callback(rec('ch2_close'))
    conn.sent()
    conn.close(321, 'bye')
    assert conn.is_closing
    methods = conn.sent_methods()
    assert [type(m) for m in methods] == [spec.Channel.Close]
    assert (methods[0].reply_code, methods[0].reply_text) == (321, 'bye')
    conn.feed(method_bytes(1, spec.Channel.CloseOk()))
    assert conn.sent() == []
    ((chan, reason),) = rec.only('channel_close')
    assert chan is ch1 and type(reason) is exceptions.ChannelClosedByClient
    assert reason.args == (321, 'bye')
    # ch2 was still opening: it closes once its OpenOk arrives
    conn.feed(method_bytes(2, spec.Channel.OpenOk()))
    assert rec.only('ch2_open') == []
    assert [type(m) for m in conn.sent_methods()] == [spec.Channel.Close]
    conn.feed(method_bytes(2, spec.Channel.CloseOk()))
    (close,) = conn.sent_methods()
    assert isinstance(close, spec.Connection.Close)
    assert (close.reply_code, close.reply_text) == (321, 'bye')
    conn.feed(method_bytes(0, spec.Connection.CloseOk()))
    assert conn.events[-1] == 'disconnect_stream'
    conn.terminated()
    ((_, error),) = rec.only('close')
    assert type(error) is exceptions.ConnectionClosedByClient
    assert error.args == (321, 'bye')
    assert conn.is_closed
    assert conn.active_timers() == []
    assert conn._channels == {}


def test_close_without_channels_sends_close_at_once():
    conn = open_connection()
    conn.close()
    (close,) = conn.sent_methods()
    assert (close.reply_code, close.reply_text) == (200, 'Normal shutdown')
    with pytest.raises(exceptions.ConnectionWrongStateError,
                       match=r"Illegal close\(200, 'Normal shutdown'\)"):
        conn.close()


def test_close_argument_check():
    conn = open_connection()
    with pytest.raises(ValueError):
        conn.close('x', 'y')
    assert conn.is_open


def test_broker_close_when_open():
    conn = open_connection()
    chan = open_channel(conn)
    conn.feed(
        method_bytes(0, spec.Connection.Close(320, 'CONNECTION_FORCED', 0, 0)))
    assert isinstance(conn.sent_methods()[0], spec.Connection.CloseOk)
    conn.terminated()
    ((ch, ch_reason),) = conn.rec.only('channel_close')
    ((_, error),) = conn.rec.only('close')
    assert ch is chan
    assert type(error) is exceptions.ConnectionClosedByBroker
    assert error.args == (320, 'CONNECTION_FORCED')
    assert ch_reason is error
    assert chan.is_closed and conn.is_closed


def test_stream_lost_when_open():
    conn = open_connection()
    chan = open_channel(conn)
    lost = exceptions.StreamLostError('Stream connection lost: x')
    conn._on_stream_terminated(lost)
    assert conn.rec.only('channel_close') == [(chan, lost)]
    assert conn.rec.only('close') == [(conn, lost)]
    assert conn.is_closed
    assert conn.active_timers() == []
    # a second report from the adapter is ignored
    conn._on_stream_terminated(lost)
    assert len(conn.rec.only('close')) == 1


def test_callbacks_validate():
    conn = open_connection()
    for name in ('add_on_open_callback', 'add_on_close_callback',
                 'add_on_open_error_callback',
                 'add_on_connection_blocked_callback',
                 'add_on_connection_unblocked_callback'):
        with pytest.raises(TypeError,
                           match='callback callback must be callable'):
            getattr(conn, name)(1)


def test_blocked_unblocked_and_timeout():
    conn = open_connection(Params(blocked_connection_timeout=5))
    rec = conn.rec
    conn.add_on_connection_blocked_callback(rec('blocked'))
    conn.add_on_connection_unblocked_callback(rec('unblocked'))
    conn.feed(method_bytes(0, spec.Connection.Blocked('low mem')))
    ((c, blocked_frame),) = rec.only('blocked')
    assert c is conn and isinstance(blocked_frame, frame.Method)
    assert blocked_frame.method.reason == 'low mem'
    conn.advance(4)
    conn.feed(method_bytes(0, spec.Connection.Unblocked()))
    ((c, unblocked_frame),) = rec.only('unblocked')
    assert isinstance(unblocked_frame.method, spec.Connection.Unblocked)
    conn.advance(10)
    assert conn.is_open
    conn.feed(method_bytes(0, spec.Connection.Blocked('low mem')))
    conn.advance(5)
    assert conn.events[-1] == 'disconnect_stream'
    assert conn.sent() == []
    conn.terminated()
    ((_, error),) = rec.only('close')
    assert type(error) is exceptions.ConnectionBlockedTimeout
    assert error.args == ('Blocked connection timeout expired.',)


def test_channel_allocation():
    conn = open_connection(tune=tune_bytes(3, 131072, 0))
    chans = [conn.channel() for _ in range(3)]
    assert [c.channel_number for c in chans] == [1, 2, 3]
    with pytest.raises(exceptions.NoFreeChannels):
        conn.channel()
    with pytest.raises(exceptions.InvalidChannelNumber):
        conn.channel('x')
    with pytest.raises(exceptions.InvalidChannelNumber):
        conn.channel(70000)
    with pytest.raises(TypeError):
        conn.channel(on_open_callback=1)
    assert [type(m) for m in conn.sent_methods()] == [spec.Channel.Open] * 3


def test_channel_requires_open_connection():
    conn = make_connection()
    with pytest.raises(exceptions.ConnectionWrongStateError,
                       match='Channel allocation requires an open'):
        conn.channel()


def test_update_secret():
    conn = open_connection()
    rec = conn.rec
    conn.update_secret('token', 'refresh', rec('secret'))
    (method,) = conn.sent_methods()
    assert isinstance(method, spec.Connection.UpdateSecret)
    assert method.reason == 'refresh'
    conn.feed(method_bytes(0, spec.Connection.UpdateSecretOk()))
    ((ok_frame,),) = rec.only('secret')
    assert isinstance(ok_frame.method, spec.Connection.UpdateSecretOk)
    with pytest.raises(TypeError):
        conn.update_secret(1, 'x')
    closed = make_connection()
    with pytest.raises(exceptions.ConnectionWrongStateError,
                       match='Secret update requires an open connection'):
        closed.update_secret('s', 'r')


@pytest.mark.parametrize('data', [
    method_bytes(0, spec.Connection.Blocked('x'))[:-1] + b'\x00',
    b'\x09\x00\x00\x00\x00\x00\x00\xce',
    b'\x01\x00\x00\x00\x00\x00\x02\x00\x0a\xce',
])
def test_malformed_frames_close_connection(data):
    conn = open_connection()
    chan = open_channel(conn)
    conn.feed(data)
    assert conn.events[-1] == 'disconnect_stream'
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert_stream_lost(error, 'InvalidFrameError')
    assert conn.rec.only('channel_close') == [(chan, error)]
    assert conn.is_closed


def test_oversize_frame_rejected():
    conn = open_connection(tune=tune_bytes(0, 4096, 0))
    conn.feed(b'\x03\x00\x01\x00\x01\x00\x00\x00')
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert_stream_lost(error, 'InvalidFrameError')


def test_malformed_frame_while_opening():
    conn = make_connection()
    conn._on_stream_connected()
    conn.feed(start_bytes()[:-1] + b'\x00')
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    # pika 1.4: the stream is lost in state PROTOCOL
    assert type(error) is exceptions.IncompatibleProtocolError
    assert 'Stream connection lost: InvalidFrameError' in error.args[0]


def test_unexpected_method_while_opening():
    conn = make_connection()
    conn._on_stream_connected()
    conn.feed(tune_bytes())
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is exceptions.IncompatibleProtocolError
    assert 'UnexpectedFrameError' in error.args[0]


def test_frame_for_unknown_channel_is_ignored():
    conn = open_connection()
    conn.feed(method_bytes(5, spec.Channel.OpenOk()))
    assert conn.is_open


def test_open_callback_exception_aborts_with_stream_lost(caplog):
    rec = Recorder()
    conn = FakeConnection(Params(),
                          on_open_callback=lambda c: 1 / 0,
                          on_close_callback=rec('close'))
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes())
    conn.feed(OPEN_OK)
    assert 'ZeroDivisionError' in caplog.text  # logged with traceback
    assert conn.events[-1] == 'disconnect_stream'
    conn.terminated()
    ((_, error),) = rec.only('close')
    assert type(error) is exceptions.StreamLostError
    assert error.args == (
        "Stream connection lost: ZeroDivisionError('division by zero')",)


def test_frames_after_raising_callback_are_dropped():
    conn = open_connection()
    calls = []

    def boom(c, method_frame):
        calls.append('blocked')
        raise RuntimeError('user error')

    conn.add_on_connection_blocked_callback(boom)
    conn.add_on_connection_unblocked_callback(lambda c, f: calls.append('u'))
    data = (method_bytes(0, spec.Connection.Blocked('x')) +
            method_bytes(0, spec.Connection.Unblocked()))
    conn.feed(data)
    conn.feed(method_bytes(0, spec.Connection.Unblocked()))
    assert calls == ['blocked']
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.StreamLostError


def test_byte_and_frame_counters():
    conn = open_connection(tune=tune_bytes(0, 131072, 0))
    sent, received = conn.bytes_sent, conn.bytes_received
    chan = open_channel(conn)
    chan.basic_publish('', 'q', b'abc')
    assert conn.bytes_sent > sent
    assert conn.bytes_received > received
    assert conn.frames_sent >= 5


def test_stream_lost_while_client_closing_reports_stream_lost():
    conn = open_connection()
    chan = open_channel(conn)
    conn.close()
    lost = exceptions.StreamLostError('lost')
    conn._on_stream_terminated(lost)
    assert conn.rec.only('channel_close') == [(chan, lost)]
    assert conn.rec.only('close') == [(conn, lost)]


def test_channel_number_kept_while_close_callbacks_run():
    conn = open_connection()
    chan = open_channel(conn)
    numbers = []
    chan.add_on_close_callback(
        lambda ch, reason: numbers.append(conn.channel().channel_number))
    conn.feed(method_bytes(1, spec.Channel.Close(406, 'PRECONDITION', 0, 0)))
    assert numbers == [2]
    assert 1 not in conn._channels


def test_lowest_free_channel_number_reused():
    conn = open_connection()
    chans = [open_channel(conn) for _ in range(3)]
    chans[1].close()
    conn.feed(method_bytes(2, spec.Channel.CloseOk()))
    assert conn.channel().channel_number == 2
    assert conn.channel().channel_number == 4


def test_parameters_are_deep_copied_except_ssl_options():
    import ssl
    context = ssl.create_default_context()
    params = Params(ssl_options=connection.SSLOptions(context, 'host'),
                    client_properties={'a': {
                        'b': 1
                    }},
                    heartbeat=None)
    conn = make_connection(params)
    assert conn.params is not params
    assert conn.params.ssl_options is params.ssl_options
    assert conn.params.credentials == params.credentials
    assert conn.params.credentials is not params.credentials
    assert conn.params.client_properties == {'a': {'b': 1}}
    assert conn.params.client_properties is not params.client_properties
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes(100, 8192, 30))
    assert (conn.params.channel_max, conn.params.frame_max,
            conn.params.heartbeat) == (100, 8192, 30)
    assert (params.channel_max, params.frame_max,
            params.heartbeat) == (65535, 131072, None)


def test_stream_connected_after_close_in_init_is_ignored():
    conn = make_connection()
    conn.close()
    conn._on_stream_connected()
    assert conn.written == []
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is exceptions.ConnectionOpenAborted


def test_blocked_timer_cancelled_when_connection_closes():
    conn = open_connection(Params(blocked_connection_timeout=5, heartbeat=0))
    conn.feed(method_bytes(0, spec.Connection.Blocked('mem')))
    assert len(conn.active_timers()) == 1
    conn.close()
    conn.feed(method_bytes(0, spec.Connection.CloseOk()))
    conn.terminated()
    assert conn.active_timers() == []
    assert type(
        conn.rec.only('close')[0][1]) is (exceptions.ConnectionClosedByClient)


def test_unexpected_connection_methods_ignored_while_closing():
    conn = open_connection()
    conn.close()
    conn.feed(tune_bytes())
    assert conn.is_closing
    conn.feed(method_bytes(0, spec.Connection.CloseOk()))
    conn.terminated()
    assert type(
        conn.rec.only('close')[0][1]) is (exceptions.ConnectionClosedByClient)


def test_process_frame_routes_channel_frames():
    conn = open_connection()
    rec = Recorder()
    chan = conn.channel(on_open_callback=rec('open'))
    conn._process_frame(frame.Method(1, spec.Channel.OpenOk()))
    assert rec.calls == [('open', chan)]
    conn._process_frame(frame.Method(9, spec.Channel.OpenOk()))
    assert conn.is_open


def test_close_reply_text_must_be_str():
    conn = open_connection()
    with pytest.raises(TypeError):
        conn.close(200, 5)
    assert conn.is_open


def test_send_on_closed_connection_raises():
    conn = open_connection()
    conn._on_stream_terminated(exceptions.StreamLostError('x'))
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn._send_method(0, spec.Connection.CloseOk())
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn._send_message(1, spec.Basic.Publish(), spec.BasicProperties(), b'')


@pytest.mark.parametrize('result,message', [
    (None, 'heartbeat callback must not return None or callable, but got '
     'None'),
    (-1, 'heartbeat must >= 0, but got -1'),
    ('x', 'heartbeat must be an int or a callable function, but got'),
])
def test_heartbeat_callable_result_checked(result, message):
    conn = make_connection(Params(heartbeat=lambda c, v: result))
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.sent()
    conn.feed(tune_bytes())
    assert conn.sent() == []  # nothing sent after the bad value
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert isinstance(error, exceptions.AMQPConnectionError)
    assert message in repr(error)


def test_wrong_protocol_version_in_start():
    conn = make_connection()
    conn._on_stream_connected()
    conn.feed(
        method_bytes(
            0,
            spec.Connection.Start(version_major=0,
                                  version_minor=8,
                                  mechanisms=b'PLAIN')))
    conn.terminated()
    ((_, error),) = conn.rec.only('open_error')
    assert type(error) is exceptions.IncompatibleProtocolError
    assert 'ProtocolVersionMismatch' in error.args[0]


def test_oversize_frame_rejected_when_head_arrives_in_pieces():
    conn = open_connection(tune=tune_bytes(0, 4096, 0))
    conn.feed(b'\x03\x00\x01\xff\xff\xff')
    assert conn.is_open
    conn.feed(b'\xff')  # the head is complete: the size is known
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert_stream_lost(error, 'InvalidFrameError')


def test_large_frames_in_small_reads_decode_once_complete():
    conn = open_connection()
    chan = open_channel(conn)
    got = []
    tag = chan.basic_consume('q', lambda *args: got.append(args[3]))
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    body = bytes(range(256)) * 1024
    data = content_bytes(1, spec.Basic.Deliver(tag, 1, False, '', 'q'), body)
    calls = []
    real_decode = frame.decode_frames

    def counting_decode(*args, **kwargs):
        calls.append(1)
        return real_decode(*args, **kwargs)

    frame.decode_frames = counting_decode
    try:
        for start in range(0, len(data), 1000):
            conn.feed(data[start:start + 1000])
    finally:
        frame.decode_frames = real_decode
    assert got == [body]
    # a few decode passes per 128 KiB frame, not one per 1000-byte read
    assert len(calls) < len(data) // 1000 // 10


def test_synchronous_stream_loss_during_processing_stops_dispatch():
    conn = open_connection()
    calls = []

    def on_blocked(c, method_frame):
        calls.append('blocked')
        # e.g. a transport reporting a write failure synchronously
        c._on_stream_terminated(exceptions.StreamLostError('write failed'))

    conn.add_on_connection_blocked_callback(on_blocked)
    conn.add_on_connection_unblocked_callback(lambda c, f: calls.append('u'))
    conn.feed(
        method_bytes(0, spec.Connection.Blocked('x')) +
        method_bytes(0, spec.Connection.Unblocked()))
    assert calls == ['blocked']
    assert conn.is_closed
    assert type(conn.rec.only('close')[0][1]) is exceptions.StreamLostError


def test_process_frame_override_sees_every_frame():
    seen = []

    class Recording(FakeConnection):

        def _process_frame(self, frame_value):
            seen.append((frame_value.channel_number,
                         type(getattr(frame_value, 'method', None)).__name__))
            super()._process_frame(frame_value)

    conn = Recording(Params())
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes())
    conn.feed(OPEN_OK)
    chan = conn.channel()
    conn.feed(method_bytes(1, spec.Channel.OpenOk()))
    assert chan.is_open
    assert seen[-1] == (1, 'OpenOk')
    assert [s[1] for s in seen[:3]] == ['Start', 'Tune', 'OpenOk']
