"""Attendance registers: national codes, their statistical classes and (later) session marks."""
