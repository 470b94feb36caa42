"""The attendance analytics that drive casework (DESIGN.md "Attendance registers").

- :mod:`casework.analytics.timeline`: a pupil's marked sessions, every school and year, in order.
- :mod:`casework.analytics.totals`: possible / attended / absent counts and DfE percentages.
- :mod:`casework.analytics.flags`: the flags casework acts on (persistent and severe absence,
  below 95 %, 75 % or below, the penalty-notice threshold, lateness after the register closed,
  continuous absence, illness, a declining trend), each listing the sessions that produced it.
- :mod:`casework.analytics.county`: the same flags for a whole county at once (numpy).
- :mod:`casework.analytics.aggregates`: DfE-style aggregates (enrolments, sessions, PA exact).

The package ``__init__`` imports nothing, so ``config.profiles`` can import flag names from
``casework.analytics.flags`` lazily without a cycle.
"""
