"""Thin controllers: parse, call one service inside a unit of work, present."""
