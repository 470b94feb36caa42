"""Litestar application: JSON API, pages, sign-in and the ``casework`` command line."""
