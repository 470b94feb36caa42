import logging

from api.redaction import DropQueryStrings


def test_access_log_lines_lose_their_query_string():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/pupils?q=Ashdown", "1.1", 200),
        None,
    )
    assert DropQueryStrings().filter(record)
    assert "Ashdown" not in record.getMessage()
    assert "/api/pupils" in record.getMessage()
