"""Mail settings come from CASEWORK_* variables; a bad value is refused naming the variable,
the value and the rule (before anything is queued or sent)."""

from __future__ import annotations

import pytest

from config.settings import MailSettings, Settings, mail_settings


def test_the_development_default_writes_files():
    settings = mail_settings({})
    assert settings == MailSettings()
    assert (settings.backend, settings.max_attempts) == ("file", 8)


def test_an_smtp_server_is_configured_by_settings_alone():
    settings = mail_settings(
        {
            "CASEWORK_MAIL_BACKEND": "smtp",
            "CASEWORK_SMTP_HOST": "smtp.example.org",
            "CASEWORK_SMTP_SECURITY": "tls",
            "CASEWORK_SMTP_USERNAME": "attendance",
            "CASEWORK_SMTP_PASSWORD": " secret with spaces ",
            "CASEWORK_SMTP_TIMEOUT": "12.5",
            "CASEWORK_MAIL_MAX_ATTEMPTS": "5",
            "CASEWORK_MAIL_DOMAIN": "casework.example.org",
        }
    )
    assert (settings.smtp_host, settings.port, settings.smtp_security) == (
        "smtp.example.org",
        465,
        "tls",
    )
    assert settings.smtp_password == " secret with spaces "
    assert "secret" not in repr(settings)  # never in a log line
    assert (settings.smtp_timeout_seconds, settings.max_attempts) == (12.5, 5)
    assert settings.message_id_domain == "casework.example.org"
    assert mail_settings({"CASEWORK_SMTP_HOST": "x.org"}).port == 587  # STARTTLS by default
    assert mail_settings({"CASEWORK_SMTP_SECURITY": "none"}).port == 25


SMTP = {"CASEWORK_MAIL_BACKEND": "smtp", "CASEWORK_SMTP_HOST": "smtp.example.org"}


REFUSED = [
    ({"CASEWORK_MAIL_BACKEND": "sendmail"}, "CASEWORK_MAIL_BACKEND='sendmail'", "file or smtp"),
    ({"CASEWORK_MAIL_BACKEND": "smtp"}, "CASEWORK_SMTP_HOST=''", "the smtp mail backend needs"),
    ({**SMTP, "CASEWORK_SMTP_HOST": "smtp example"}, "CASEWORK_SMTP_HOST='smtp example'", "host"),
    ({**SMTP, "CASEWORK_SMTP_PORT": "25a"}, "CASEWORK_SMTP_PORT='25a'", "port from 1 to 65535"),
    ({**SMTP, "CASEWORK_SMTP_PORT": "0"}, "CASEWORK_SMTP_PORT=0", "port from 1 to 65535"),
    ({**SMTP, "CASEWORK_SMTP_SECURITY": "ssl"}, "CASEWORK_SMTP_SECURITY='ssl'", "starttls, tls"),
    ({**SMTP, "CASEWORK_SMTP_USERNAME": "u"}, "CASEWORK_SMTP_USERNAME='u'", "set both"),
    ({**SMTP, "CASEWORK_SMTP_PASSWORD": "p"}, "CASEWORK_SMTP_PASSWORD='(hidden)'", "set both"),
    (
        {**SMTP, "CASEWORK_SMTP_SECURITY": "none"}
        | {"CASEWORK_SMTP_USERNAME": "u", "CASEWORK_SMTP_PASSWORD": "p"},
        "CASEWORK_SMTP_SECURITY='none'",
        "unencrypted",
    ),
    ({**SMTP, "CASEWORK_SMTP_TIMEOUT": "soon"}, "CASEWORK_SMTP_TIMEOUT='soon'", "seconds"),
    ({**SMTP, "CASEWORK_SMTP_TIMEOUT": "0"}, "CASEWORK_SMTP_TIMEOUT=0.0", "from 1 to 600"),
    ({"CASEWORK_MAIL_MAX_ATTEMPTS": "0"}, "CASEWORK_MAIL_MAX_ATTEMPTS=0", "from 1 to 50"),
    ({"CASEWORK_MAIL_MAX_ATTEMPTS": "eight"}, "CASEWORK_MAIL_MAX_ATTEMPTS='eight'", "whole"),
    ({"CASEWORK_MAIL_DOMAIN": "localhost"}, "CASEWORK_MAIL_DOMAIN='localhost'", "domain name"),
]


@pytest.mark.parametrize(("environ", "named", "rule"), REFUSED)
def test_bad_values_are_refused_naming_variable_value_and_rule(environ, named, rule):
    with pytest.raises(ValueError) as caught:
        mail_settings(environ)
    assert str(caught.value).startswith(f"{named} is refused: ")
    assert rule in str(caught.value)


def test_the_password_is_never_quoted_when_refused():
    with pytest.raises(ValueError) as caught:
        mail_settings({**SMTP, "CASEWORK_SMTP_PASSWORD": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_settings_from_the_environment_refuse_bad_mail_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CASEWORK_MAIL_BACKEND", "carrier-pigeon")
    with pytest.raises(ValueError, match="CASEWORK_MAIL_BACKEND='carrier-pigeon' is refused"):
        Settings.from_env()
    monkeypatch.setenv("CASEWORK_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("CASEWORK_SMTP_HOST", "127.0.0.1")
    assert Settings.from_env().mail.smtp_host == "127.0.0.1"


def test_settings_made_in_code_are_checked_too():
    with pytest.raises(ValueError, match="CASEWORK_MAIL_MAX_ATTEMPTS=99 is refused"):
        MailSettings(max_attempts=99)
