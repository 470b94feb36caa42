"""Outbox dispatcher, email senders and letter templates (see the README's architecture)."""
