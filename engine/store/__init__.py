"""Persistence of the CSMS (design.md decisions 6, 7; rules §8.1–8.2). Synchronous and thread-safe; no trio.

``SqliteStore`` is the embedded default (``ocpp-trio.sqlite`` in the working directory, WAL,
``synchronous=FULL``); ``MemoryStore`` behaves the same for tests. Both implement :class:`Store`.
"""

from engine.store.base import MAX_TRANSACTION_ID as MAX_TRANSACTION_ID
from engine.store.base import ChargerRecord as ChargerRecord
from engine.store.base import ConnectorRecord as ConnectorRecord
from engine.store.base import DataTransferRecord as DataTransferRecord
from engine.store.base import IdTagRecord as IdTagRecord
from engine.store.base import IdTagStatus as IdTagStatus
from engine.store.base import LogRecord as LogRecord
from engine.store.base import MeterValueRecord as MeterValueRecord
from engine.store.base import OrphanKind as OrphanKind
from engine.store.base import OrphanStopRecord as OrphanStopRecord
from engine.store.base import RegistrationStatus as RegistrationStatus
from engine.store.base import SchemaVersionError as SchemaVersionError
from engine.store.base import StopOutcome as StopOutcome
from engine.store.base import Store as Store
from engine.store.base import StoreError as StoreError
from engine.store.base import TransactionFlag as TransactionFlag
from engine.store.base import TransactionIdsExhausted as TransactionIdsExhausted
from engine.store.base import TransactionRecord as TransactionRecord
from engine.store.base import UnknownChargerError as UnknownChargerError
from engine.store.base import id_tag_key as id_tag_key
from engine.store.memory import MemoryStore as MemoryStore
from engine.store.migrations import LATEST_VERSION as LATEST_VERSION
from engine.store.sqlite import DEFAULT_PATH as DEFAULT_PATH
from engine.store.sqlite import SqliteStore as SqliteStore
