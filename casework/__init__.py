"""Domain and persistence for school-attendance casework.

This package imports nothing from ``api``, ``workflows`` or ``notifications``: it is the bottom
of the dependency graph (see README, Architecture).
"""
