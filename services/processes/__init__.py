"""The ways to run the services: all in one process on the embedded default (``up``),
or one service against production settings (``production``)."""
