"""Sessions read from the cache and written through to the database (Django's
`cached_db`), where a cache that fails costs only the cache: the session is read from
the database and the page goes on, as every other use of the cache here does (Django's
own backend logs a failed write on save, but lets one on a database read or a delete
break the request).

Whether a logged-in session may go on never rests on this copy: the session's sign-in
is read from the database at every request (accounts.web_sessions), so a copy a failed
delete left behind is refused like any ended session."""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(CachedDBStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("Session cache unreadable (%s): reading the database", self._cache)
            data = None
        if data is not None:
            return data
        found = self._get_session_from_db()
        if not found:
            return {}
        data = self.decode(found.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=found.expire_date))
        except Exception:
            logger.warning("Session cache unwritable (%s)", self._cache)
        return data

    def delete(self, session_key=None):
        key = session_key or self.session_key
        # The database first, as Django's does. A copy left in the cache by a failed delete
        # is served until it expires; if it was logged in, its sign-in is gone with it.
        super(CachedDBStore, self).delete(session_key)
        if key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + key)
        except Exception:
            logger.warning("Session cache unwritable (%s): a deleted copy stays", self._cache)

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            logger.warning("Session cache unreadable (%s): reading the database", self._cache)
        return super(CachedDBStore, self).exists(session_key)
