"""The case state machine, its guards, and the services that move cases through it."""
