"""`covet.storage`: object storage behind one interface (local directory, S3 API, GCS JSON API),
streamed both ways, served with StaticFiles' HTTP semantics. See docs/storage.md."""

from covet.storage.base import InvalidKey, ObjectInfo, Storage, StorageError
from covet.storage.files import StorageFiles
from covet.storage.gcs import GCSStorage
from covet.storage.local import LocalStorage
from covet.storage.s3 import S3Storage

__all__ = [
    "GCSStorage",
    "InvalidKey",
    "LocalStorage",
    "ObjectInfo",
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageFiles",
]
