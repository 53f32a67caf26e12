"""The business rules, one module per area. No HTTP and no wire formats: the API, the CLI and
(later) the console and the simulator call the same functions."""
