"""Keep personal data out of logs: query strings (a search for a pupil's surname, say) never
reach the access log."""

from __future__ import annotations

import logging


class DropQueryStrings(logging.Filter):
    """Strips the query string from uvicorn's access-log path argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def install() -> None:
    # transitions logs every callback at INFO: noise in production logs.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, DropQueryStrings) for f in access.filters):
        access.addFilter(DropQueryStrings())
