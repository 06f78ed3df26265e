"""taskiq-redis's stream broker, with pending messages reclaimed on every poll.

Its own `listen` looks for messages left unacknowledged by a dead worker only after a read that
returned new ones, so on a quiet queue a job whose worker was killed would wait for unrelated
traffic to run again. Here each poll, empty or not, ends with one XAUTOCLAIM."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from redis.asyncio import Redis
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker


class StreamBroker(RedisStreamBroker):
    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                fetched = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                for stream, messages in fetched or []:
                    for message_id, fields in messages:
                        yield self._ackable(stream, message_id, fields)
                _, claimed, _ = await redis.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=self.unacknowledged_batch_size,
                )
                for message_id, fields in claimed:
                    yield self._ackable(self.queue_name, message_id, fields)

    def _ackable(self, stream: str | bytes, message_id: bytes, fields: dict[bytes, bytes]) -> AckableMessage:
        name = stream.decode() if isinstance(stream, bytes) else stream
        return AckableMessage(data=fields[b"data"], ack=self._ack_generator(id=message_id, queue_name=name))  # type: ignore[arg-type]
