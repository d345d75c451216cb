"""Automatic recovery: configuration, topology ledger and the recovery state
machine, shared by the connections that accept ``recovery=``.

Theory of operation
-------------------

Recovery is opt-in per connection: ``BlockingConnection(params,
recovery=RecoveryConfig())``. Without it nothing here runs and the connection
behaves exactly as pika 1.4's.

With it, a connection owns one :class:`RecoveryCoordinator`. The coordinator
holds the state (:class:`RecoveryState`), the attempt counter and backoff, the
user's listeners, and a :class:`TopologyLedger`: the exchanges, queues,
bindings, consumers, QoS settings and confirm mode the application set up
through this connection, recorded when the broker acknowledged them and
forgotten when the application deletes, unbinds or cancels them.

A loss that the client did not ask for (TCP reset or EOF, heartbeat timeout,
``Connection.Close`` from the broker such as 320 CONNECTION_FORCED on node
shutdown, ``ConnectionBlockedTimeout``) moves the state from ``IDLE`` to
``RECONNECTING`` and calls the *started* listeners. The connection's driver
then makes attempts, each one over the whole host sequence the connection was
created with, separated by a jittered exponential backoff
(:meth:`RecoveryConfig.delay`). An attempt opens a new AMQP connection,
reopens the channels with their old numbers on the same channel objects the
application holds, then restores, in this order: QoS, confirm mode,
exchanges, queues (a server-named queue gets a new name; its bindings and
consumers follow it and :meth:`TopologyLedger.current_queue_name` tells the
application the new name), bindings, consumers with their tags and
callbacks. What cannot be restored (e.g. a consumer of a queue that is gone)
is reported in the *succeeded* listeners' ``skipped`` list as
:class:`TopologyRecoveryEntity` objects, never dropped silently. When the
attempts run out the state becomes ``FAILED``, the *failed* listeners are
called and the connection closes with the original error.

Rules:

* Channel errors caused by the application (404, 406, ...) are not losses:
  they close that channel as they always did.
* While ``RECONNECTING``, calls fail fast with
  :class:`pika.exceptions.ConnectionRecovering` (or wait up to
  :attr:`RecoveryConfig.wait_timeout`); no call is ever sent half-way
  through the reopening.
* A publish in confirm mode that was sent but not confirmed when the
  connection went away is reported as lost
  (:class:`pika.exceptions.ConfirmationLost`), never as a broker nack, unless
  :attr:`RecoveryConfig.republish_unconfirmed` asks to publish it again.
* Delivery tags from before a loss are never sent to the new channel: the
  broker has requeued those messages already.
"""

import dataclasses
import enum
import logging
import random
import time
from typing import (Any, Callable, Dict, Iterator, List, NamedTuple, Optional,
                    Protocol, Sequence, Set, Tuple)

from pika import exceptions, spec

LOGGER = logging.getLogger(__name__)

_monotonic = time.monotonic

__all__ = [
    'RecoveryConfig', 'RecoveryState', 'TopologyRecoveryMode',
    'TopologyRecoveryEntity', 'TopologyLedger', 'RecoveryCoordinator',
    'UnconfirmedMessage', 'is_recoverable_loss', 'DeadPeerWatch',
    'DeliveryTagGenerations', 'TopologyStep', 'topology_steps', 'step_refused',
    'step_done', 'RestoreDriver', 'restore_topology', 'StaleTagFilter',
    'TAG_GENERATION_SHIFT'
]


class TopologyRecoveryMode(enum.Enum):
    """Which recorded exchanges, queues and bindings recovery declares again.

    ``ALL``: everything the application declared through the connection.
    ``ONLY_TRANSIENT``: only what does not survive on the broker by itself
    (non-durable, exclusive, auto-delete or server-named queues,
    non-durable or auto-delete exchanges, and the bindings touching them);
    durable topology is left as the broker has it, so changes made by an
    operator are not undone. ``DISABLED``: no topology and no consumers are
    restored (they are reported as skipped); channels, QoS and confirm mode
    still are.
    """
    ALL = 'all'
    ONLY_TRANSIENT = 'only_transient'
    DISABLED = 'disabled'


class RecoveryState(enum.Enum):
    """Where a connection with automatic recovery stands.

    ``IDLE``: connected (or never lost); ``RECONNECTING``: a loss was
    detected and attempts are being made; ``FAILED``: the attempts ran out
    and the connection is closed for good.
    """
    IDLE = 'idle'
    RECONNECTING = 'reconnecting'
    FAILED = 'failed'


def _check_number(value: Any,
                  name: str,
                  minimum: float,
                  allow_none: bool = False,
                  integer: bool = False) -> None:
    if value is None and allow_none:
        return
    types: Tuple[type, ...] = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, types):
        raise TypeError('%s must be %s%s, but got %r' %
                        (name, 'an int' if integer else 'a number',
                         ' or None' if allow_none else '', value))
    if value < minimum:  # type: ignore[operator]
        raise ValueError('%s must be >= %s, but got %r' %
                         (name, minimum, value))


@dataclasses.dataclass(frozen=True)
class RecoveryConfig:
    """How a connection recovers from a loss it did not ask for.

    :param max_attempts: attempts (each over the whole host sequence) before
        recovery gives up; None retries forever
    :param initial_interval: seconds before the first attempt
    :param max_interval: upper bound of the delay between attempts
    :param backoff_multiplier: factor applied to the delay after each failed
        attempt (1 for a constant delay)
    :param jitter: fraction of the delay added or removed at random (0.1:
        +/-10%), so that many clients do not reconnect in lockstep
    :param topology: a :class:`TopologyRecoveryMode`
    :param republish_unconfirmed: publish again, after recovery, the messages
        that were sent in confirm mode but not confirmed when the connection
        was lost (at-least-once delivery)
    :param wait_timeout: seconds a call made while recovering waits for
        recovery before raising
        :class:`pika.exceptions.ConnectionRecovering`; None or 0 fails fast
    :param fast_dead_peer_detection: detect a silent broker within
        2 x heartbeat + 1 second (instead of pika 1.4's heartbeat + 5 to
        2 x heartbeat + 10 seconds)
    """
    max_attempts: Optional[int] = 10
    initial_interval: float = 0.5
    max_interval: float = 30.0
    backoff_multiplier: float = 2.0
    jitter: float = 0.1
    topology: TopologyRecoveryMode = TopologyRecoveryMode.ALL
    republish_unconfirmed: bool = False
    wait_timeout: Optional[float] = None
    fast_dead_peer_detection: bool = True

    def __post_init__(self) -> None:
        _check_number(self.max_attempts,
                      'max_attempts',
                      1,
                      allow_none=True,
                      integer=True)
        _check_number(self.initial_interval, 'initial_interval', 0)
        _check_number(self.max_interval, 'max_interval', 0)
        if self.max_interval < self.initial_interval:
            raise ValueError('max_interval must be >= initial_interval, but '
                             'got %r < %r' %
                             (self.max_interval, self.initial_interval))
        _check_number(self.backoff_multiplier, 'backoff_multiplier', 1)
        _check_number(self.jitter, 'jitter', 0)
        if self.jitter > 1:
            raise ValueError('jitter must be between 0 and 1, but got %r' %
                             (self.jitter,))
        if not isinstance(self.topology, TopologyRecoveryMode):
            raise TypeError('topology must be a TopologyRecoveryMode, but '
                            'got %r' % (self.topology,))
        if not isinstance(self.republish_unconfirmed, bool):
            raise TypeError('republish_unconfirmed must be a bool, but got '
                            '%r' % (self.republish_unconfirmed,))
        _check_number(self.wait_timeout, 'wait_timeout', 0, allow_none=True)
        if not isinstance(self.fast_dead_peer_detection, bool):
            raise TypeError('fast_dead_peer_detection must be a bool, but '
                            'got %r' % (self.fast_dead_peer_detection,))

    def delay(
            self,
            attempt: int,
            uniform: Callable[[float, float], float] = random.uniform) -> float:
        """Seconds to wait before attempt number ``attempt`` (1-based):
        ``initial_interval * backoff_multiplier ** (attempt - 1)``, capped at
        ``max_interval``, then moved by up to ``jitter`` of itself (never
        above ``max_interval``, never negative).

        :param int attempt: the attempt about to be made, from 1
        :param uniform: ``uniform(low, high)`` random source (for tests)
        :rtype: float
        """
        _check_number(attempt, 'attempt', 1, integer=True)
        base = self.initial_interval
        # Multiply step by step so that a large attempt number cannot
        # overflow a float power.
        for _ in range(attempt - 1):
            base *= self.backoff_multiplier
            if base >= self.max_interval:
                break
        base = min(base, self.max_interval)
        if self.jitter and base:
            base += uniform(-self.jitter * base, self.jitter * base)
        return max(0.0, min(base, self.max_interval))


@dataclasses.dataclass
class TopologyRecoveryEntity:
    """One recorded piece of topology, as the ledger holds it and as the
    *succeeded* listeners receive it in ``skipped``.

    :param kind: ``'exchange'``, ``'queue'``, ``'queue_binding'``,
        ``'exchange_binding'``, ``'consumer'``
    :param name: the exchange or queue name, the binding's destination, or
        the consumer tag
    :param channel_number: the channel it was declared on
    :param details: the declaration's other arguments (e.g. ``durable``;
        for bindings ``source`` and ``routing_key``; for consumers ``queue``
        and ``auto_ack``)
    :param reason: why it was skipped (only in ``skipped``)
    """
    kind: str
    name: str
    channel_number: int
    details: Dict[str, Any] = dataclasses.field(default_factory=dict)
    reason: Optional[str] = None

    @property
    def is_transient(self) -> bool:
        """True for what the broker forgets by itself when the connection or
        the node goes away."""
        details = self.details
        if self.kind == 'exchange':
            return (not details.get('durable', False) or
                    bool(details.get('auto_delete', False)))
        if self.kind == 'queue':
            return (not details.get('durable', False) or
                    bool(details.get('exclusive', False)) or
                    bool(details.get('auto_delete', False)) or
                    bool(details.get('server_named', False)))
        return True

    def skipped(self, reason: str) -> 'TopologyRecoveryEntity':
        """A copy with ``reason`` set, for a ``skipped`` list."""
        return dataclasses.replace(self,
                                   details=dict(self.details),
                                   reason=reason)


class UnconfirmedMessage(NamedTuple):
    """A publish whose confirmation was lost with the connection.

    ``delivery_tag`` is the publish's sequence number as the application
    counts it on its channel (asynchronous adapters; None where the call
    itself reports the loss, as ``BlockingChannel.basic_publish`` does).
    """
    exchange: str
    routing_key: str
    body: Any
    properties: Any
    mandatory: bool
    delivery_tag: Optional[int] = None


def _arguments_copy(arguments: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return dict(arguments) if arguments else {}


class TopologyLedger:
    """What the application declared through one connection, in declaration
    order, kept so that recovery can declare it again.

    Recorded when the broker acknowledged it (``DeclareOk``, ``BindOk``,
    ``ConsumeOk``, ``QosOk``); passive declarations are not recorded.
    """

    def __init__(self) -> None:
        self.exchanges: Dict[str, TopologyRecoveryEntity] = {}
        self.queues: Dict[str, TopologyRecoveryEntity] = {}
        self.bindings: List[TopologyRecoveryEntity] = []
        self.consumers: Dict[Tuple[int, str], TopologyRecoveryEntity] = {}
        # channel number -> {global_qos: (prefetch_size, prefetch_count)}
        self.qos: Dict[int, Dict[bool, Tuple[int, int]]] = {}
        # original server-assigned queue name -> current name
        self._renamed: Dict[str, str] = {}

    # -- recording ------------------------------------------------------------

    def record_exchange(self, channel_number: int, exchange: str,
                        exchange_type: Any, durable: bool, auto_delete: bool,
                        internal: bool, arguments: Optional[Dict[str,
                                                                 Any]]) -> None:
        """Note an ``Exchange.DeclareOk``."""
        if not exchange:
            return  # the default exchange is not declared
        self.exchanges.pop(exchange, None)
        self.exchanges[exchange] = TopologyRecoveryEntity(
            'exchange', exchange, channel_number,
            dict(exchange_type=getattr(exchange_type, 'value', exchange_type),
                 durable=bool(durable),
                 auto_delete=bool(auto_delete),
                 internal=bool(internal),
                 arguments=_arguments_copy(arguments)))

    def record_queue(self, channel_number: int, requested: str, declared: str,
                     durable: bool, exclusive: bool, auto_delete: bool,
                     arguments: Optional[Dict[str, Any]]) -> None:
        """Note a ``Queue.DeclareOk``: ``requested`` is the name asked for
        ('' for a server-named queue), ``declared`` the name in the reply.
        """
        self.queues.pop(declared, None)
        self.queues[declared] = TopologyRecoveryEntity(
            'queue', declared, channel_number,
            dict(durable=bool(durable),
                 exclusive=bool(exclusive),
                 auto_delete=bool(auto_delete),
                 arguments=_arguments_copy(arguments),
                 server_named=not requested))

    def record_binding(self, channel_number: int, kind: str, destination: str,
                       source: str, routing_key: Optional[str],
                       arguments: Optional[Dict[str, Any]]) -> None:
        """Note a ``Queue.BindOk`` (``kind='queue_binding'``) or an
        ``Exchange.BindOk`` (``kind='exchange_binding'``)."""
        entity = TopologyRecoveryEntity(
            kind, destination, channel_number,
            dict(source=source,
                 routing_key=routing_key,
                 arguments=_arguments_copy(arguments)))
        if self._find_binding(entity) is None:
            self.bindings.append(entity)

    def record_consumer(self, channel_number: int, consumer_tag: str,
                        queue: str, auto_ack: bool, exclusive: bool,
                        arguments: Optional[Dict[str, Any]]) -> None:
        """Note a ``Basic.ConsumeOk``."""
        self.consumers[(channel_number, consumer_tag)] = TopologyRecoveryEntity(
            'consumer', consumer_tag, channel_number,
            dict(queue=queue,
                 auto_ack=bool(auto_ack),
                 exclusive=bool(exclusive),
                 arguments=_arguments_copy(arguments)))

    def record_qos(self, channel_number: int, prefetch_size: int,
                   prefetch_count: int, global_qos: bool) -> None:
        """Note a ``Basic.QosOk``."""
        self.qos.setdefault(channel_number,
                            {})[bool(global_qos)] = (prefetch_size,
                                                     prefetch_count)

    # -- forgetting -----------------------------------------------------------

    def forget_exchange(self, exchange: str) -> None:
        """Note an ``Exchange.DeleteOk``: the exchange and its bindings go."""
        self.exchanges.pop(exchange, None)
        self.bindings = [
            binding for binding in self.bindings
            if binding.details['source'] != exchange and not (
                binding.kind == 'exchange_binding' and binding.name == exchange)
        ]

    def forget_queue(self, queue: str) -> None:
        """Note a ``Queue.DeleteOk``: the queue, its bindings and consumers
        go."""
        self.queues.pop(queue, None)
        self.bindings = [
            binding for binding in self.bindings
            if not (binding.kind == 'queue_binding' and binding.name == queue)
        ]
        for key, consumer in list(self.consumers.items()):
            if consumer.details['queue'] == queue:
                del self.consumers[key]

    def forget_binding(self, kind: str, destination: str, source: str,
                       routing_key: Optional[str],
                       arguments: Optional[Dict[str, Any]]) -> None:
        """Note an ``UnbindOk``."""
        found = self._find_binding(
            TopologyRecoveryEntity(
                kind, destination, 0,
                dict(source=source,
                     routing_key=routing_key,
                     arguments=_arguments_copy(arguments))))
        if found is not None:
            self.bindings.remove(found)

    def forget_consumer(self, channel_number: int, consumer_tag: str) -> None:
        """Note a cancelled consumer; an auto-delete queue whose last
        recorded consumer this was is gone on the broker, so it goes too."""
        consumer = self.consumers.pop((channel_number, consumer_tag), None)
        if consumer is None:
            return
        queue_name = consumer.details['queue']
        queue = self.queues.get(queue_name)
        if (queue is not None and queue.details.get('auto_delete') and
                not any(other.details['queue'] == queue_name
                        for other in self.consumers.values())):
            self.forget_queue(queue_name)

    def forget_channel(self, channel_number: int) -> None:
        """A channel closed: its consumers and QoS go (exchanges, queues and
        bindings belong to the broker, not the channel, and stay)."""
        self.qos.pop(channel_number, None)
        for key in [key for key in self.consumers if key[0] == channel_number]:
            self.forget_consumer(*key)

    # -- renaming -------------------------------------------------------------

    def rename_queue(self, old: str, new: str) -> None:
        """A server-named queue was declared again and got ``new``: move the
        queue, its bindings and consumers to the new name."""
        if old == new:
            return
        entity = self.queues.pop(old, None)
        if entity is not None:
            entity.name = new
            self.queues[new] = entity
        for binding in self.bindings:
            if binding.kind == 'queue_binding' and binding.name == old:
                binding.name = new
        for consumer in self.consumers.values():
            if consumer.details['queue'] == old:
                consumer.details['queue'] = new
        for original, current in list(self._renamed.items()):
            if current == old:
                self._renamed[original] = new
        if old not in self._renamed.values():
            self._renamed.setdefault(old, new)

    def current_queue_name(self, name: str) -> str:
        """The name a queue has now: for a server-named queue that was
        declared again during recovery, its latest name; else ``name``.

        :param str name: a queue name the application received earlier
        :rtype: str
        """
        return self._renamed.get(name, name)

    # -- plans ----------------------------------------------------------------

    def plan(
        self, mode: TopologyRecoveryMode
    ) -> Tuple[List[TopologyRecoveryEntity], List[TopologyRecoveryEntity],
               List[TopologyRecoveryEntity]]:
        """The exchanges, queues and bindings to declare again under
        ``mode``, in declaration order.

        :rtype: tuple(list, list, list)
        """
        if mode is TopologyRecoveryMode.DISABLED:
            return [], [], []
        exchanges = list(self.exchanges.values())
        queues = list(self.queues.values())
        if mode is TopologyRecoveryMode.ONLY_TRANSIENT:
            exchanges = [entity for entity in exchanges if entity.is_transient]
            queues = [entity for entity in queues if entity.is_transient]
            restored_exchanges = {entity.name for entity in exchanges}
            restored_queues = {entity.name for entity in queues}
            bindings = [
                binding for binding in self.bindings
                if binding.details['source'] in restored_exchanges or
                (binding.name in restored_queues if binding.kind ==
                 'queue_binding' else binding.name in restored_exchanges)
            ]
        else:
            bindings = list(self.bindings)
        return exchanges, queues, bindings

    def _find_binding(
            self,
            probe: TopologyRecoveryEntity) -> Optional[TopologyRecoveryEntity]:
        for binding in self.bindings:
            if (binding.kind == probe.kind and binding.name == probe.name and
                    binding.details == probe.details):
                return binding
        return None


class TopologyStep(NamedTuple):
    """One declaration recovery sends again: ``method`` (a :mod:`pika.spec`
    method) on a scratch channel, answered by ``reply`` (its ``...Ok``
    class), for the ledger's ``entity``."""
    entity: TopologyRecoveryEntity
    method: Any
    reply: Any


def topology_steps(ledger: TopologyLedger,
                   mode: TopologyRecoveryMode) -> Iterator[TopologyStep]:
    """The declarations that restore the ledger's topology under ``mode``:
    exchanges, queues, then bindings. Shared by the recovery drivers, which
    send each step, then report the outcome with :func:`step_refused` or
    :func:`step_done` before taking the next (a binding step is built only
    when reached, so it uses the queue's new name and is left out when its
    queue or exchange could not be declared).
    """
    exchanges, queues, bindings = ledger.plan(mode)
    for entity in exchanges:
        details = entity.details
        yield TopologyStep(
            entity,
            spec.Exchange.Declare(exchange=entity.name,
                                  type=details['exchange_type'],
                                  durable=details['durable'],
                                  auto_delete=details['auto_delete'],
                                  internal=details['internal'],
                                  arguments=details['arguments'] or None),
            spec.Exchange.DeclareOk)
    for entity in queues:
        details = entity.details
        yield TopologyStep(
            entity,
            spec.Queue.Declare(
                queue='' if details['server_named'] else entity.name,
                durable=details['durable'],
                exclusive=details['exclusive'],
                auto_delete=details['auto_delete'],
                arguments=details['arguments'] or None), spec.Queue.DeclareOk)
    for entity in bindings:
        if not any(binding is entity for binding in ledger.bindings):
            continue  # its queue or exchange could not be declared again
        details = entity.details
        routing_key = details['routing_key']
        arguments = details['arguments'] or None
        if entity.kind == 'queue_binding':
            yield TopologyStep(
                entity,
                spec.Queue.Bind(queue=entity.name,
                                exchange=details['source'],
                                routing_key=(entity.name if routing_key is None
                                             else routing_key),
                                arguments=arguments), spec.Queue.BindOk)
        else:
            yield TopologyStep(
                entity,
                spec.Exchange.Bind(destination=entity.name,
                                   source=details['source'],
                                   routing_key=routing_key or '',
                                   arguments=arguments), spec.Exchange.BindOk)


def step_refused(ledger: TopologyLedger, step: TopologyStep,
                 reason: Any) -> List[TopologyRecoveryEntity]:
    """The broker refused ``step`` (it closed the channel with ``reason``):
    the entity is forgotten, with what depends on it; returns the
    ``skipped`` copies (a queue's consumers are reported with it)."""
    entity = step.entity
    why = '%s refused by the broker: %r' % (step.method.NAME, reason)
    skipped = [entity.skipped(why)]
    if entity.kind == 'exchange':
        ledger.forget_exchange(entity.name)
    elif entity.kind == 'queue':
        skipped.extend(
            consumer.skipped('its queue could not be declared again: ' + why)
            for consumer in ledger.consumers.values()
            if consumer.details['queue'] == entity.name)
        ledger.forget_queue(entity.name)
    else:
        ledger.bindings = [
            binding for binding in ledger.bindings if binding is not entity
        ]
    return skipped


def step_done(ledger: TopologyLedger, step: TopologyStep, reply: Any) -> None:
    """The broker answered ``step`` with the ``reply`` method frame: a
    server-named queue takes its new name (bindings and consumers follow)."""
    entity = step.entity
    if entity.kind == 'queue' and reply.method.queue != entity.name:
        LOGGER.info('Server-named queue %s is now %s', entity.name,
                    reply.method.queue)
        ledger.rename_queue(entity.name, reply.method.queue)


class RestoreDriver(Protocol):
    """What :func:`restore_topology` needs from a recovery driver that can
    wait for a reply (it pumps its loop, or waits for its I/O thread)."""

    def open_channel(self) -> Any:
        """Open a scratch channel on the new connection and return it."""

    def send_step(self, channel: Any, step: TopologyStep) -> Any:
        """Send ``step.method`` on ``channel``; the reply's method frame, or
        None if the broker closed the channel instead of replying."""

    def close_channel(self, channel: Any) -> None:
        """Close a scratch channel that is still open."""


def restore_topology(ledger: TopologyLedger, mode: TopologyRecoveryMode,
                     driver: RestoreDriver) -> List[TopologyRecoveryEntity]:
    """Send every :func:`topology_steps` step through ``driver`` on a
    scratch channel (a new one after each refusal, which closes it); returns
    what was refused, as ``skipped`` entities."""
    skipped: List[TopologyRecoveryEntity] = []
    scratch = None
    for step in topology_steps(ledger, mode):
        if scratch is None:
            scratch = driver.open_channel()
        reply = driver.send_step(scratch, step)
        if reply is None:
            skipped.extend(
                step_refused(ledger, step,
                             getattr(scratch, '_closing_reason', None)))
            scratch = None
            continue
        step_done(ledger, step, reply)
    if scratch is not None:
        driver.close_channel(scratch)
    return skipped


def is_recoverable_loss(error: Optional[BaseException]) -> bool:
    """True if a connection that closed with ``error`` should be recovered:
    any connection-level loss except a close the client asked for.

    :param error: the connection's close reason
    :rtype: bool
    """
    if isinstance(error, exceptions.ConnectionClosedByClient):
        return False
    return isinstance(error, exceptions.AMQPConnectionError)


class _Listeners:
    """User callbacks of one kind; one that raises is logged and does not
    stop the others or the recovery."""

    __slots__ = ('_callbacks', '_kind')

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._callbacks: List[Callable[..., Any]] = []

    def add(self, callback: Callable[..., Any]) -> None:
        if not callable(callback):
            raise TypeError('callback must be callable, but got %r' %
                            (callback,))
        self._callbacks.append(callback)

    def fire(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            try:
                callback(*args)
            except Exception:  # noqa: BLE001 - a listener must not wedge us
                LOGGER.exception('Recovery %s callback %r raised', self._kind,
                                 callback)


class RecoveryCoordinator:
    """The recovery state machine of one connection.

    The connection's driver reports events (:meth:`connection_lost`,
    :meth:`attempt_failed`, :meth:`attempt_succeeded`) and asks
    :meth:`next_attempt_at` when to try; the coordinator keeps the state,
    counts attempts, computes the backoff and calls the listeners. It owns no
    I/O and no clock of its own (``clock`` is injectable for tests).

    :param RecoveryConfig config: the configuration
    :param connection: the object passed to the listeners
    :param clock: monotonic clock
    """

    def __init__(self,
                 config: RecoveryConfig,
                 connection: Any,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not isinstance(config, RecoveryConfig):
            raise TypeError('recovery must be a pika.recovery.RecoveryConfig, '
                            'but got %r' % (config,))
        self.config = config
        self.ledger = TopologyLedger()
        self._connection = connection
        self._clock = clock
        self.state = RecoveryState.IDLE
        #: the error that started the current (or last) recovery
        self.loss_error: Optional[BaseException] = None
        #: the last attempt's error
        self.last_attempt_error: Optional[BaseException] = None
        self.attempt = 0
        self._next_attempt_at = 0.0
        #: completed recoveries; also the delivery-tag generation
        self.recoveries = 0
        #: (seconds from loss to recovered) of each recovery
        self.durations: List[float] = []
        self._lost_at = 0.0
        self.started_listeners = _Listeners('started')
        self.succeeded_listeners = _Listeners('succeeded')
        self.failed_listeners = _Listeners('failed')

    @property
    def is_recovering(self) -> bool:
        """True while ``RECONNECTING``."""
        return self.state is RecoveryState.RECONNECTING

    def connection_lost(self, error: BaseException) -> bool:
        """A loss was detected. Returns True if recovery started (or is
        already under way), False if this loss is not recovered.

        :param error: the connection's close reason
        """
        if self.state is RecoveryState.RECONNECTING:
            return True
        if self.state is RecoveryState.FAILED or not is_recoverable_loss(error):
            return False
        LOGGER.warning('Connection lost (%r); starting recovery', error)
        self.state = RecoveryState.RECONNECTING
        self.loss_error = error
        self.last_attempt_error = None
        self.attempt = 0
        self._lost_at = self._clock()
        self._next_attempt_at = self._lost_at + self.config.delay(1)
        self.started_listeners.fire(self._connection, error)
        return True

    def next_attempt_at(self) -> float:
        """Clock time at which the next attempt is due."""
        return self._next_attempt_at

    def begin_attempt(self) -> int:
        """The driver starts an attempt; returns its number (from 1)."""
        self.attempt += 1
        LOGGER.info('Recovery attempt %d', self.attempt)
        return self.attempt

    def attempt_failed(self, error: BaseException) -> bool:
        """The current attempt failed. Returns True if another one will be
        made (at :meth:`next_attempt_at`), False if recovery has failed for
        good (state ``FAILED``; the *failed* listeners were called).
        """
        self.last_attempt_error = error
        max_attempts = self.config.max_attempts
        if max_attempts is not None and self.attempt >= max_attempts:
            LOGGER.error('Recovery failed after %d attempts: %r', self.attempt,
                         error)
            self.state = RecoveryState.FAILED
            self.failed_listeners.fire(self._connection, error)
            return False
        delay = self.config.delay(self.attempt + 1)
        LOGGER.info('Recovery attempt %d failed (%r); next in %.2fs',
                    self.attempt, error, delay)
        self._next_attempt_at = self._clock() + delay
        return True

    def attempt_succeeded(self,
                          skipped: Sequence[TopologyRecoveryEntity]) -> None:
        """The connection and its topology are back: state ``IDLE``; the
        *succeeded* listeners receive ``(connection, skipped)``."""
        self.state = RecoveryState.IDLE
        self.recoveries += 1
        self.durations.append(self._clock() - self._lost_at)
        LOGGER.warning('Recovered after %d attempt(s) in %.2fs; skipped: %r',
                       self.attempt, self.durations[-1], list(skipped))
        self.succeeded_listeners.fire(self._connection, list(skipped))

    def add_channel_listener(self, kind: str, channel: Any,
                             callback: Callable[..., Any],
                             belongs: Callable[[], bool]) -> None:
        """A channel's recovery listener: ``callback(channel, error)`` when
        recovery starts or fails (``kind`` ``'started'``/``'failed'``),
        ``callback(channel, skipped)`` with the channel's own skipped
        entities when it succeeded; only while ``belongs()`` (the channel
        is still part of the connection).

        :raises TypeError: if ``callback`` is not callable
        """
        if not callable(callback):
            raise TypeError('callback must be callable, but got %r' %
                            (callback,))

        def started_or_failed(_connection: Any, error: Any) -> None:
            if belongs():
                callback(channel, error)

        def succeeded(_connection: Any,
                      skipped: List[TopologyRecoveryEntity]) -> None:
            if belongs():
                number = channel.channel_number
                callback(channel, [
                    entity for entity in skipped
                    if entity.channel_number == number
                ])

        listeners = getattr(self, kind + '_listeners')
        listeners.add(succeeded if kind == 'succeeded' else started_or_failed)

    def recovering_error(self) -> exceptions.ConnectionRecovering:
        """The exception a call made while recovering raises."""
        error = exceptions.ConnectionRecovering(
            'Connection is recovering (attempt %d) after %r' %
            (self.attempt, self.loss_error))
        error.__cause__ = self.loss_error
        return error


# After the n-th recovery, delivery tags seen by the application are the
# broker's plus n << TAG_GENERATION_SHIFT (2**40: a trillion deliveries per
# channel and connection before two generations could meet).
TAG_GENERATION_SHIFT = 40


class StaleTagFilter:
    """Turns the application's delivery tags back into the broker's and
    drops those from before a loss (the broker has requeued those messages;
    acknowledging them on the new channel would close it with 406), logging
    that once per channel and generation."""

    def __init__(self) -> None:
        self._logged: Set[int] = set()

    def new_generation(self) -> None:
        """A new loss: log stale tags again."""
        self._logged.clear()

    def live_tag(self, channel_number: int, delivery_tag: int, multiple: bool,
                 base: int, recovering: bool) -> Optional[int]:
        """The broker's tag for ``delivery_tag``, or None if the
        ack/nack/reject must not be sent.

        :param int base: the current generation's tag offset
        :param bool recovering: True while the connection is recovering
        """
        if delivery_tag == 0 and multiple:
            return None if recovering else 0
        if base and delivery_tag <= base:
            if channel_number not in self._logged:
                self._logged.add(channel_number)
                LOGGER.warning(
                    'Not sending ack/nack/reject of delivery tag %d on '
                    'channel %d: it is from before the connection was lost, '
                    'and the broker has requeued that message (logged once '
                    'per channel and recovery)', delivery_tag, channel_number)
            return None
        return delivery_tag - base


class DeliveryTagGenerations:
    """Keeps delivery tags from before a loss apart from the new channel's.

    After the n-th recovery a channel's tags, as the application sees them,
    are the broker's plus ``n << 40``; while recovering, the channels being
    restored already belong to the next generation (their deliveries arrive
    before the attempt is over). :meth:`live_tag` turns an application tag
    back into the broker's, or None for a tag from before the loss (the
    broker has requeued that message; the ack/nack/reject is dropped and
    logged once per channel and recovery).

    :param RecoveryCoordinator coordinator: the connection's coordinator
    """

    def __init__(self, coordinator: 'RecoveryCoordinator') -> None:
        self._coordinator = coordinator
        self._filter = StaleTagFilter()

    @property
    def base(self) -> int:
        """What is added to the broker's tags now."""
        coordinator = self._coordinator
        generation = coordinator.recoveries
        if coordinator.is_recovering:
            generation += 1
        return generation << TAG_GENERATION_SHIFT

    def new_generation(self) -> None:
        """A loss: stale tags are logged again (once per channel)."""
        self._filter.new_generation()

    def live_tag(self, channel_number: int, delivery_tag: int,
                 multiple: bool) -> Optional[int]:
        """The broker's tag for ``delivery_tag``, or None to drop the call.

        :param int channel_number: the channel, for the log line
        :param int delivery_tag: the tag the application passed
        :param bool multiple: the call's ``multiple`` flag
        """
        return self._filter.live_tag(channel_number, delivery_tag, multiple,
                                     self.base, self._coordinator.is_recovering)


class DeadPeerWatch:
    """Detects a silent broker within 2 x heartbeat + 1 s.

    Checks every ``min(heartbeat / 4, 0.5)`` seconds whether frames arrived
    since the last check; ``2 x heartbeat`` seconds of checks without any
    abort the connection with :class:`pika.exceptions.AMQPHeartbeatTimeout`.
    A check that runs late (the loop was busy, e.g. in a long user callback)
    only restarts the count: the bytes that arrived meanwhile have not been
    read yet, so silence cannot be told from a busy loop.

    :param connection: the asynchronous connection
    :param int heartbeat: the negotiated heartbeat timeout in seconds
    """

    def __init__(self, connection: Any, heartbeat: float) -> None:
        self._connection = connection
        self._timeout = 2.0 * heartbeat
        self._interval = min(heartbeat / 4.0, 0.5)
        self._frames = connection.frames_received
        now = _monotonic()
        self._last_activity = now
        self._last_check = now
        self._timer: Any = None
        self._stopped = False
        self._schedule()

    def _schedule(self) -> None:
        self._timer = self._connection._adapter_call_later(
            self._interval, self._check)

    def stop(self) -> None:
        """Cancel the watch."""
        self._stopped = True
        if self._timer is not None:
            try:
                self._connection._adapter_remove_timeout(self._timer)
            except Exception:  # noqa: BLE001 - the loop may be gone
                pass
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        connection = self._connection
        if self._stopped or not connection.is_open:
            return
        now = _monotonic()
        frames = connection.frames_received
        late = now - self._last_check > 2 * self._interval + 0.25
        self._last_check = now
        if frames != self._frames or late:
            self._frames = frames
            self._last_activity = now
        elif now - self._last_activity >= self._timeout:
            text = ('No frame from the broker in %.1f seconds (2 x heartbeat)' %
                    (now - self._last_activity,))
            LOGGER.warning(text)
            self._stopped = True
            connection._terminate_stream(exceptions.AMQPHeartbeatTimeout(text))
            return
        self._schedule()
