"""What every process runs on: settings, its HTTP socket and app, the event loop host,
and the supervisor of several workers."""
