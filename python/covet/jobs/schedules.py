"""`Schedules`: where delayed jobs and retries wait for their time, in Redis.

taskiq-redis's `ListRedisScheduleSource` files a timed schedule under the minute it is due and,
after its first read, reads only the current minute's list. A schedule that lands in a minute's
list after the scheduler's last read of that minute (a retry due at 12:00:59.6, filed at
12:00:59.5, with the next read at 12:01:00.2) is never read again, so the job silently never
runs. covet's source also reads the previous minute's list on every read. That sends nothing
twice: a sent timed schedule is deleted (`post_send`), and the scheduler sends each schedule id
once.
"""

from __future__ import annotations

import datetime

from redis.asyncio import Redis
from taskiq import ScheduledTask
from taskiq_redis import ListRedisScheduleSource

__all__ = ["Schedules"]


class Schedules(ListRedisScheduleSource):
    async def get_schedules(self) -> list[ScheduledTask]:
        schedules = await super().get_schedules()
        seen = {schedule.schedule_id for schedule in schedules}
        minute_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
        async with Redis(connection_pool=self._connection_pool) as redis:
            ids = await redis.lrange(self._get_time_key(minute_ago), 0, -1)  # type: ignore[misc]
            fresh = [i.decode() for i in ids if i.decode() not in seen]
            stored = await redis.mget([self._get_data_key(i) for i in fresh]) if fresh else []
        schedules += [ScheduledTask.model_validate(self._serializer.loadb(data)) for data in stored if data]
        return schedules
