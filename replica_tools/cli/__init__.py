"""The ``replica-tools`` command line: ``main`` dispatches to one module per subcommand."""
