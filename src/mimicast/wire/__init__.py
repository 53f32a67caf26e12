"""The protocol as pure functions, shared by the server and the SDK: no I/O, no framework."""
