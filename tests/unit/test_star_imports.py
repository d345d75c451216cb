"""Star-imports give the names pika 1.4.4 gives, module by module.

The expected names were read from pika 1.4.4 (``from M import *`` in its
own virtual environment), leaving out what it only imports for its own use
(typing names, standard-library modules and classes). Only ``pika`` and
``pika.adapters`` define ``__all__`` there, so only they do here.
"""

import importlib

import pytest

# module -> (its __all__ or None, names its star-import must give).
# Left out on purpose: twisted_connection's ``reactor`` (importing it here
# would install Twisted's default reactor as a side effect), pika.spec's
# ``str`` (bound to ``bytes`` there: a star-import would shadow the
# built-in), pika.channel's ``Sequence`` (a typing helper).
EXPECTED = {
    'pika': ([
        'AMQPConnectionWorkflow', 'BaseConnection', 'BasicProperties',
        'BlockingConnection', 'ConnectionParameters', 'DeliveryMode',
        'PlainCredentials', 'SSLOptions', 'SelectConnection', 'URLParameters',
        'adapters'
    ], [
        'AMQPConnectionWorkflow', 'BaseConnection', 'BasicProperties',
        'BlockingConnection', 'ConnectionParameters', 'DeliveryMode',
        'PlainCredentials', 'SSLOptions', 'SelectConnection', 'URLParameters'
    ]),
    'pika.adapters': ([
        'AsyncioConnection', 'BaseConnection', 'BlockingConnection', 'IOLoop',
        'SelectConnection'
    ], [
        'AsyncioConnection', 'BaseConnection', 'BlockingConnection', 'IOLoop',
        'SelectConnection'
    ]),
    'pika.amqp_object': (None, ['AMQPObject', 'Class', 'Method', 'Properties']),
    'pika.callback': (None, [
        'CallbackManager', 'LOGGER', 'check_for_prefix_and_key',
        'name_or_value', 'sanitize_prefix'
    ]),
    'pika.channel': (None, [
        'Channel', 'ContentFrameAssembler', 'ExchangeType', 'LOGGER',
        'MAX_CHANNELS', 'as_bytes'
    ]),
    'pika.compat': (None, [
        'HAVE_SIGNAL', 'LINUX_VERSION', 'ON_LINUX', 'ON_OSX', 'ON_WINDOWS',
        'RE_NUM', 'SOCKET_ERROR', 'SOL_TCP', 'as_bytes', 'byte',
        'get_linux_version', 'long', 'nonblocking_socketpair', 'str_or_bytes',
        'time_now', 'to_digit'
    ]),
    'pika.connection': (None, [
        'Connection', 'ConnectionParameters', 'LOGGER', 'PRODUCT', 'Parameters',
        'SSLOptions', 'URLParameters', 'url_parse_qs', 'url_unquote', 'urlparse'
    ]),
    'pika.credentials':
        (None,
         ['ExternalCredentials', 'LOGGER', 'PlainCredentials', 'as_bytes']),
    'pika.data': (None, [
        'as_bytes', 'datetime', 'decode_short_string', 'decode_table',
        'decode_value', 'encode_short_string', 'encode_table', 'encode_value',
        'long', 'timezone'
    ]),
    'pika.delivery_mode': (None, ['DeliveryMode']),
    'pika.diagnostic_utils': (None, ['create_log_exception_decorator']),
    'pika.exceptions': (None, [
        'AMQPChannelError', 'AMQPConnectionError', 'AMQPError',
        'AMQPHeartbeatTimeout', 'AuthenticationError', 'BodyTooLongError',
        'ChannelClosed', 'ChannelClosedByBroker', 'ChannelClosedByClient',
        'ChannelError', 'ChannelWrongStateError', 'ConnectionBlockedTimeout',
        'ConnectionClosed', 'ConnectionClosedByBroker',
        'ConnectionClosedByClient', 'ConnectionOpenAborted',
        'ConnectionWrongStateError', 'ConsumerCancelled',
        'DuplicateConsumerTag', 'DuplicateGetOkCallback',
        'IncompatibleProtocolError', 'InvalidChannelNumber',
        'InvalidFieldTypeException', 'InvalidFrameError',
        'MethodNotImplemented', 'NackError', 'NoFreeChannels',
        'ProbableAccessDeniedError', 'ProbableAuthenticationError',
        'ProtocolSyntaxError', 'ProtocolVersionMismatch', 'ReentrancyError',
        'ShortStringTooLong', 'StreamLostError', 'UnexpectedFrameError',
        'UnroutableError', 'UnsupportedAMQPFieldException'
    ]),
    'pika.exchange_type': (None, ['ExchangeType']),
    'pika.frame': (None, [
        'Body', 'Frame', 'Header', 'Heartbeat', 'LOGGER', 'Method',
        'ProtocolHeader', 'byte', 'decode_frame'
    ]),
    'pika.heartbeat': (None, ['HeartbeatChecker', 'LOGGER']),
    'pika.spec': (None, [
        'ACCESS_REFUSED', 'Access', 'Basic', 'BasicProperties', 'CHANNEL_ERROR',
        'COMMAND_INVALID', 'CONNECTION_FORCED', 'CONTENT_TOO_LARGE', 'Channel',
        'Confirm', 'Connection', 'DeliveryMode', 'Exchange', 'ExchangeType',
        'FRAME_BODY', 'FRAME_END', 'FRAME_END_SIZE', 'FRAME_ERROR',
        'FRAME_HEADER', 'FRAME_HEADER_SIZE', 'FRAME_HEARTBEAT',
        'FRAME_MAX_SIZE', 'FRAME_METHOD', 'FRAME_MIN_SIZE', 'INTERNAL_ERROR',
        'INVALID_PATH', 'NOT_ALLOWED', 'NOT_FOUND', 'NOT_IMPLEMENTED',
        'NO_CONSUMERS', 'NO_ROUTE', 'PERSISTENT_DELIVERY_MODE', 'PORT',
        'PRECONDITION_FAILED', 'PROTOCOL_VERSION', 'Queue', 'REPLY_SUCCESS',
        'RESOURCE_ERROR', 'RESOURCE_LOCKED', 'SYNTAX_ERROR',
        'TRANSIENT_DELIVERY_MODE', 'Tx', 'UNEXPECTED_FRAME', 'as_bytes',
        'has_content', 'str_or_bytes'
    ]),
    'pika.tcp_socket_opts':
        (None, ['LOGGER', 'set_sock_opts', 'socket_requires_keepalive']),
    'pika.validators': (None, [
        'require_callback', 'require_string', 'rpc_completion_callback',
        'zero_or_greater'
    ]),
    'pika.adapters.asyncio_connection': (None, ['AsyncioConnection', 'LOGGER']),
    'pika.adapters.base_connection': (None, ['BaseConnection', 'LOGGER']),
    'pika.adapters.blocking_connection': (None, [
        'BlockingChannel', 'BlockingConnection', 'ExchangeType', 'LOGGER',
        'ReturnedMessage'
    ]),
    'pika.adapters.select_connection': (None, [
        'AbstractSelectorIOLoop', 'BaseConnection', 'EPollPoller', 'IOLoop',
        'KQueuePoller', 'LOGGER', 'PollEvents', 'PollPoller',
        'SelectConnection', 'SelectPoller', 'SelectorIOServicesAdapter'
    ]),
    'pika.adapters.gevent_connection': (None, [
        'AbstractIOReference', 'AbstractIOServices', 'AbstractSelectorIOLoop',
        'BaseConnection', 'GeventConnection', 'LOGGER',
        'SelectorIOServicesAdapter', 'check_callback_arg'
    ]),
    'pika.adapters.tornado_connection': (None, ['LOGGER', 'TornadoConnection']),
    'pika.adapters.twisted_connection': (None, [
        'ClosableDeferredQueue', 'ExchangeType', 'Failure', 'LOGGER',
        'ReceivedMessage', 'TwistedChannel', 'TwistedProtocolConnection',
        'check_callback_arg'
    ]),
    'pika.adapters.utils.connection_workflow': (None, [
        'AMQPConnectionWorkflow', 'AMQPConnectionWorkflowAborted',
        'AMQPConnectionWorkflowFailed', 'AMQPConnectionWorkflowWrongState',
        'AMQPConnector', 'AMQPConnectorAMQPHandshakeError',
        'AMQPConnectorAborted', 'AMQPConnectorException',
        'AMQPConnectorPhaseErrorBase', 'AMQPConnectorSocketConnectError',
        'AMQPConnectorStackTimeout', 'AMQPConnectorTransportSetupError',
        'AMQPConnectorWrongState', 'AbstractAMQPConnectionWorkflow'
    ]),
    'pika.adapters.utils.io_services_utils': (None, [
        'AbstractIOReference', 'AbstractStreamTransport',
        'SocketConnectionMixin', 'StreamingConnectionMixin',
        'check_callback_arg', 'check_fd_arg'
    ]),
    'pika.adapters.utils.nbio_interface': (None, [
        'AbstractFileDescriptorServices', 'AbstractIOReference',
        'AbstractIOServices', 'AbstractStreamProtocol',
        'AbstractStreamTransport', 'AbstractTimerReference'
    ]),
    'pika.adapters.utils.selector_ioloop_adapter': (None, [
        'AbstractSelectorIOLoop', 'LOGGER', 'SelectorIOServicesAdapter',
        'check_callback_arg', 'check_fd_arg'
    ]),
}


@pytest.mark.parametrize('module_name', sorted(EXPECTED))
def test_star_import_gives_pika_names(module_name):
    module = importlib.import_module(module_name)
    expected_all, expected_names = EXPECTED[module_name]
    if expected_all is None:
        assert not hasattr(module, '__all__'), module_name
    else:
        assert sorted(module.__all__) == expected_all
    namespace = {}
    exec('from %s import *' % module_name, namespace)  # noqa: S102
    missing = set(expected_names) - set(namespace)
    assert not missing, '%s lacks %s' % (module_name, sorted(missing))
