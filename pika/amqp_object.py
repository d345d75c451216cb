"""Base classes for the AMQP objects of :mod:`pika.spec` and :mod:`pika.frame`.

Every AMQP class, method, content-properties object and frame derives from
:class:`AMQPObject`, which supplies a readable ``repr`` and equality by the
instance's attribute dictionary (as pika does).
"""
from typing import Any, List, Optional


class AMQPObject:
    """Base object that is extended by AMQP low level frames and AMQP classes
    and methods.

    """
    NAME = 'AMQPObject'
    INDEX: Optional[int] = None

    def __repr__(self) -> str:
        items = [
            '%s=%s' % (key, value)
            for key, value in sorted(self.__dict__.items())
            if value is not None
        ]
        if not items:
            return '<%s>' % self.NAME
        return '<%s(%s)>' % (self.NAME, sorted(items))

    def __eq__(self, other: object) -> bool:
        if other is None:
            return False
        try:
            other_dict = other.__dict__
        except AttributeError:
            return NotImplemented
        return self.__dict__ == other_dict

    __hash__ = None  # type: ignore[assignment]


class Class(AMQPObject):
    """Is extended by AMQP classes"""
    NAME = 'Unextended Class'


class Method(AMQPObject):
    """Is extended by AMQP methods"""
    NAME = 'Unextended Method'
    synchronous = False

    def _set_content(self, properties: Any, body: Any) -> None:
        """If the method is a content frame, set the properties and body to
        be carried as attributes of the class.

        :param pika.frame.Properties properties: AMQP Basic Properties
        :param bytes body: The message body

        """
        self._properties = properties
        self._body = body

    def get_properties(self) -> Any:
        """Return the properties if they are set.

        :rtype: pika.frame.Properties

        """
        return self._properties

    def get_body(self) -> Any:
        """Return the message body if it is set.

        :rtype: str|unicode

        """
        return self._body

    def encode(self) -> List[bytes]:
        """Encode the method's arguments as a list of bytes pieces.

        :rtype: list

        """
        raise NotImplementedError

    def decode(self, encoded: bytes, offset: int = 0) -> 'Method':
        """Decode the method's arguments from ``encoded`` at ``offset``.

        :param bytes encoded: The encoded data
        :param int offset: Where the arguments start
        :rtype: Method

        """
        raise NotImplementedError


class Properties(AMQPObject):
    """Class to encompass message properties (AMQP Basic.Properties)"""
    NAME = 'Unextended Properties'
