"""Where cached answers live: in memory (least recently used go first beyond a size bound), or
in a SQLite file (standard library) shared by every thread and process that opens it.

SQLite runs in WAL mode (readers never wait for the writer), with one connection per thread
and per process (a forked child opens its own); writes take the write lock at once
(``BEGIN IMMEDIATE``) and wait up to ``timeout`` seconds for it. Every entry carries a checksum:
an entry that does not match, or cannot be read, is a miss; a file that is not a database, or
that cannot be read, makes every look-up a miss with one WARNING, never an error.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import weakref
import zlib
from collections import OrderedDict
from typing import Any, NamedTuple, Optional, Union

from chatmini.errors import InvalidRequestError

logger = logging.getLogger("chatmini")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, created REAL NOT NULL, "
    "status INTEGER NOT NULL, stream INTEGER NOT NULL, headers TEXT NOT NULL, "
    "body BLOB NOT NULL, checksum INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS entries_by_age ON entries (created)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
)
TRIM_EVERY = 64  # writes between two trims of a bounded SQLite store


class Entry(NamedTuple):
    """One stored answer: when (``time.time()``), its status, headers and body (decoded), and
    whether the body is an event stream to replay."""

    created: float
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stream: bool


class MemoryStore:
    """At most ``max_entries`` answers and ``max_bytes`` of bodies, least recently used out
    first; thread-safe. Its salt is new in every process."""

    def __init__(self, max_entries: int = 1024, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.salt = os.urandom(16)
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Optional[Entry]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry, expired_before: Optional[float] = None) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while self._entries and (len(self._entries) > self.max_entries
                                     or self._bytes > self.max_bytes):
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

    def discard(self, key: str) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._bytes -= len(entry.body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        """Nothing to close."""

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self)} entries, {self._bytes} bytes>"


class SQLiteStore:
    """Answers in the SQLite file at ``path`` (created if missing), for every thread and process
    that opens it; at most ``max_entries`` (the oldest go first) when given."""

    def __init__(
        self, path: Union[str, os.PathLike[str]], max_entries: Optional[int] = None,
        timeout: float = 5.0,
    ) -> None:
        self.path = os.fspath(path)
        self.max_entries = max_entries
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()  # one writer at a time in this process (SQLite: across)
        self._connections: list[sqlite3.Connection] = []
        self._writes = 0
        self._warned = False
        self.salt = os.urandom(16)  # replaced by the file's own, shared by every process
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _forget_connections(ref))
        try:
            connection = sqlite3.connect(self.path, timeout=timeout)
        except sqlite3.Error as exc:
            raise InvalidRequestError(
                f"ResponseCache cannot open {self.path!r}: {exc}") from None
        connection.close()
        connection_now = self._connection()
        if connection_now is not None:
            salt = self._read_salt(connection_now)
            if salt is not None:
                self.salt = salt

    def _connection(self) -> Optional[sqlite3.Connection]:
        """This thread's connection (opened and set up on first use), None when unusable."""
        local = self._local
        pid = os.getpid()
        if getattr(local, "pid", None) == pid:
            connection: Optional[sqlite3.Connection] = local.connection
            return connection
        local.pid, local.connection = pid, None
        try:
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            for statement in SCHEMA:
                connection.execute(statement)
        except sqlite3.Error as exc:
            self._trouble(exc)
            return None
        local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection

    def _read_salt(self, connection: sqlite3.Connection) -> Optional[bytes]:
        try:
            with self._lock:
                connection.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)",
                                   (os.urandom(16),))
            row = connection.execute("SELECT value FROM meta WHERE name = 'salt'").fetchone()
        except sqlite3.Error as exc:
            self._trouble(exc)
            return None
        return bytes(row[0]) if row and isinstance(row[0], bytes) else None

    def get(self, key: str) -> Optional[Entry]:
        connection = self._connection()
        if connection is None:
            return None
        try:
            row = connection.execute(
                "SELECT created, status, stream, headers, body, checksum FROM entries "
                "WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._trouble(exc)
            return None
        return None if row is None else _entry(row)

    def put(self, key: str, entry: Entry, expired_before: Optional[float] = None) -> None:
        connection = self._connection()
        if connection is None:
            return
        headers = json.dumps(entry.headers)
        checksum = zlib.crc32(entry.body, zlib.crc32(headers.encode()))
        row = (key, entry.created, entry.status, int(entry.stream), headers, entry.body, checksum)
        with self._lock:
            self._writes += 1
            trim = self.max_entries is not None and self._writes % TRIM_EVERY == 1
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    connection.execute("INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?)", row)
                    if expired_before is not None and trim:
                        connection.execute("DELETE FROM entries WHERE created < ?",
                                           (expired_before,))
                    if trim:
                        connection.execute(
                            "DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY "
                            "created DESC LIMIT -1 OFFSET ?)", (self.max_entries,))
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._trouble(exc)

    def discard(self, key: str) -> None:
        """Expired entries stay until a write trims them: a look-up never writes."""

    def clear(self) -> None:
        connection = self._connection()
        if connection is None:
            return
        with self._lock:
            try:
                connection.execute("DELETE FROM entries")
            except sqlite3.Error as exc:
                self._trouble(exc)

    def __len__(self) -> int:
        connection = self._connection()
        if connection is None:
            return 0
        try:
            row = connection.execute("SELECT count(*) FROM entries").fetchone()
        except sqlite3.Error as exc:
            self._trouble(exc)
            return 0
        return int(row[0])

    def _trouble(self, exc: sqlite3.Error) -> None:
        """A store that cannot be read or written is a miss, said once at WARNING."""
        if not self._warned:
            self._warned = True
            logger.warning("the response cache at %s cannot be used (%s: %s); calls go to the "
                           "network", self.path, type(exc).__name__, exc)
        else:
            logger.debug("response cache at %s: %s: %s", self.path, type(exc).__name__, exc)

    def close(self) -> None:
        """Close every thread's connection (the store must not be used afterwards)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.path!r}>"


def _forget_connections(ref: weakref.ReferenceType[SQLiteStore]) -> None:
    """In a forked child: the parent's connections and a lock held at the fork are not ours."""
    store = ref()
    if store is not None:
        store._lock = threading.Lock()
        store._connections = []
        store._local = threading.local()


def _entry(row: tuple[Any, ...]) -> Optional[Entry]:
    """An entry from its row; None when its checksum or any field is wrong (a miss)."""
    try:
        created, status, stream, headers, body, checksum = row
        body = bytes(body)
        if zlib.crc32(body, zlib.crc32(headers.encode())) != checksum:
            return None
        pairs = [(str(name), str(value)) for name, value in json.loads(headers)]
        return Entry(float(created), int(status), pairs, body, bool(stream))
    except (TypeError, ValueError, AttributeError):
        return None

