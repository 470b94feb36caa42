"""Unit of work: one database transaction per service call (cosmicpython, chapter 6)."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from casework.db import WRITE_INTENT


class UnitOfWork:
    """``with uow:`` opens a transaction; ``commit()`` makes it permanent, anything else rolls back.

    ``write=True`` declares the intent to write up front, which on SQLite takes the write lock at
    BEGIN so concurrent writers wait rather than fail with a stale snapshot.
    """

    session: Session

    def __init__(self, session_factory: sessionmaker[Session], write: bool = False):
        self._factory = session_factory
        self._write = write

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        if self._write:
            self.session.connection(execution_options={WRITE_INTENT: True})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()
