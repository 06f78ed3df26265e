"""Durable background jobs on Redis streams (taskiq): declared with `@jobs.job`, enqueued from
handlers (in the database transaction when asked), run by `covet worker module:app`.
See docs/jobs.md."""

from covet.jobs.job import Job, JobFailed, JobHandle
from covet.jobs.queue import Jobs

__all__ = ["Job", "JobFailed", "JobHandle", "Jobs"]
