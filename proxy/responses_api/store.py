"""Stored responses, for ``previous_response_id`` and ``GET /v1/responses/{id}``.

Each stored response keeps its ``response`` object and the whole
conversation it ended (every input item of the chain, then its output
items), so that a chained request needs one look-up and no walk through
ancestors that may have been evicted. Bounded by count
(``responses_store_size``, oldest out first): a client chaining without end
cannot grow memory or the file without bound.

- :class:`MemoryStore` (the default): lost on restart.
- :class:`SqliteStore` (``responses_store_path``): one table in a SQLite file,
  so chains survive a restart; reads and writes run off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredResponse:
    response: dict[str, Any]
    #: The conversation: every input item of the chain, then this response's output.
    conversation: list[dict[str, Any]]


class ResponseStore(Protocol):
    async def get(self, response_id: str) -> StoredResponse | None: ...

    async def put(self, stored: StoredResponse) -> None: ...

    async def delete(self, response_id: str) -> bool: ...

    def close(self) -> None: ...


class MemoryStore:
    """The last ``max_items`` responses, in memory."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()

    async def get(self, response_id: str) -> StoredResponse | None:
        return self._items.get(response_id)

    async def put(self, stored: StoredResponse) -> None:
        if self.max_items <= 0:
            return
        self._items[stored.response["id"]] = stored
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    async def delete(self, response_id: str) -> bool:
        return self._items.pop(response_id, None) is not None

    def close(self) -> None:
        self._items.clear()


class SqliteStore:
    """The last ``max_items`` responses in a SQLite file."""

    def __init__(self, path: str | Path, max_items: int) -> None:
        self.max_items = max_items
        # One connection, used by one worker thread at a time (the lock).
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses ("
                " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " id TEXT UNIQUE NOT NULL, response TEXT NOT NULL, conversation TEXT NOT NULL)"
            )

    async def get(self, response_id: str) -> StoredResponse | None:
        return await asyncio.to_thread(self._get, response_id)

    async def put(self, stored: StoredResponse) -> None:
        await asyncio.to_thread(self._put, stored)

    async def delete(self, response_id: str) -> bool:
        return await asyncio.to_thread(self._delete, response_id)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _get(self, response_id: str) -> StoredResponse | None:
        with self._lock:
            row = self._db.execute(
                "SELECT response, conversation FROM responses WHERE id = ?", (response_id,)
            ).fetchone()
        if row is None:
            return None
        return StoredResponse(json.loads(row[0]), json.loads(row[1]))

    def _put(self, stored: StoredResponse) -> None:
        if self.max_items <= 0:
            return
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (id, response, conversation) VALUES (?, ?, ?)",
                (
                    stored.response["id"],
                    json.dumps(stored.response, ensure_ascii=False),
                    json.dumps(stored.conversation, ensure_ascii=False),
                ),
            )
            self._db.execute(
                "DELETE FROM responses WHERE seq <= (SELECT MAX(seq) FROM responses) - ?",
                (self.max_items,),
            )

    def _delete(self, response_id: str) -> bool:
        with self._lock, self._db:
            cursor = self._db.execute("DELETE FROM responses WHERE id = ?", (response_id,))
        return cursor.rowcount > 0


def open_store(path: str | None, max_items: int) -> ResponseStore:
    return SqliteStore(path, max_items) if path else MemoryStore(max_items)
