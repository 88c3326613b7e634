"""A process's own copies of values that never change once made (a snapshot's drawings,
a page part keyed by everything it shows): the last few hundred used, newest last. A
copy can never be stale, since its key names everything it shows; a process started
by a new release starts empty."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class Recent:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
