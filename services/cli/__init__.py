"""The ``hotline`` commands, one module per command group; ``main`` assembles the parser."""
