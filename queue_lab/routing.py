"""Routing by hand: a direct exchange (RabbitMQ tutorial 4) and a topic exchange (tutorial 5),
and consumers that bind their own queues to them.

So far every raw job went through the default exchange, which routes by queue name: the publisher
had to know the queue. Here the publisher names only an exchange and a routing key, and each
consumer says which keys it wants — the broker matches the two:

    Q.direct   (direct) a message goes to every queue bound with exactly its routing key.
    Q.topic    (topic)  the key is words separated by dots ("report.long"); a binding is a pattern
               where `*` stands for one word and `#` for any number of words ("*.long", "report.#").
    Q.routed.<name>  a consumer's own queue (with its .wait, .dead and .delay, like Q's), declared
               and bound by the consumer, started with CONSUMER_BINDS="direct:email topic:*.long".

A key that matches no binding is not an error for the broker: without `mandatory` the message is
dropped silently. The API publishes with `mandatory`, so it comes back (312 NO_ROUTE) and the job's
row ends ERROR, saying so. A key that matches two queues' bindings is copied into both: each copy
is a delivery, and each consumer runs the job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from queue_lab.fields import BadField, gettext

EXCHANGE_KINDS = ("direct", "topic")
MAX_KEY = 100  # a routing key may be 255 bytes; ours are a few words
MAX_BINDS = 8
_WORD = r"[a-z0-9_-]{1,32}"
ROUTING_KEY = re.compile(rf"{_WORD}(\.{_WORD}){{0,7}}")  # what a job is published with: no wildcards
PATTERN = re.compile(rf"({_WORD}|\*|#)(\.({_WORD}|\*|#)){{0,7}}")  # what a topic binding may say
QUEUE_NAME = re.compile(_WORD)


class BadRoute(BadField):
    """An exchange, routing key or binding that is not one of ours; `.message` says what it must be."""


def routing_key(body: dict, name: str = "routing_key") -> str:
    """A publish key: up to 8 words of a-z, 0-9, _ and -, separated by dots ("report.long")."""
    value = body.get(name)
    if not isinstance(value, str) or len(value) > MAX_KEY or not ROUTING_KEY.fullmatch(value):
        raise BadRoute(name, gettext("%(name)s must be up to 8 words of a-z, 0-9, _ or - separated by dots "
                                     "(e.g. email or report.long), got %(got)s", name=name, got=repr(value)[:80]))
    return value


@dataclass(frozen=True)
class Binding:
    """One `queue_bind`: the consumer's queue gets what `exchange` (direct | topic) routes with `key`."""

    exchange: str
    key: str

    @classmethod
    def from_text(cls, text: str) -> "Binding":
        """"direct:email" or "topic:*.long" → Binding, or BadRoute naming CONSUMER_BINDS."""
        kind, _, key = text.partition(":")
        if kind not in EXCHANGE_KINDS:
            raise BadRoute("CONSUMER_BINDS", f"each binding is exchange:key with exchange direct or topic "
                                             f"(e.g. direct:email topic:*.long), got {text!r}")
        allowed = PATTERN if kind == "topic" else ROUTING_KEY
        if len(key) > MAX_KEY or not allowed.fullmatch(key):
            wildcards = " and the wildcards * (one word) and # (any words)" if kind == "topic" else ""
            raise BadRoute("CONSUMER_BINDS", f"a {kind} binding's key is words of a-z, 0-9, _ or - separated "
                                             f"by dots{wildcards}, got {key!r}")
        return cls(kind, key)

    def __str__(self) -> str:
        return f"{self.exchange}:{self.key}"


def parse_binds(text: str) -> tuple[Binding, ...]:
    """CONSUMER_BINDS, bindings separated by spaces or commas → Bindings (none: an ordinary consumer)."""
    parts = [part for part in re.split(r"[\s,]+", text.strip()) if part]
    if len(parts) > MAX_BINDS:
        raise BadRoute("CONSUMER_BINDS", f"at most {MAX_BINDS} bindings, got {len(parts)}")
    return tuple(dict.fromkeys(Binding.from_text(part) for part in parts))


def routed_queue_name(text: str, binds: tuple[Binding, ...]) -> str:
    """CONSUMER_ROUTED_QUEUE, the <name> of Q.routed.<name>; by default the first binding's key with
    its wildcards spelt out, so two consumers started alike share one queue (and compete for it)."""
    name = text or re.sub(r"[^a-z0-9_-]+", "-", binds[0].key.replace("*", "any").replace("#", "all"))
    if not QUEUE_NAME.fullmatch(name):
        raise BadRoute("CONSUMER_ROUTED_QUEUE", f"CONSUMER_ROUTED_QUEUE is one word of a-z, 0-9, _ or - "
                                                f"(up to 32), got {text!r}")
    return name


# [exchanges: begin] (counted on the page: lines routing by hand needs)
def declare_exchanges(channel, exchanges: dict[str, str]) -> None:
    """Both sides declare them, {kind: name} (either may start first); durable, like the queues."""
    for kind, name in exchanges.items():
        channel.exchange_declare(name, exchange_type=kind, durable=True)


def bind_queue(channel, queue: str, binds: tuple[Binding, ...], exchanges: dict[str, str]) -> None:
    """The consumer binds its own queue: one queue_bind per key it wants (tutorials 4 and 5)."""
    for bind in binds:
        channel.queue_bind(queue, exchanges[bind.exchange], routing_key=bind.key)
# [exchanges: end]
