"""Where the district file comes from: read from disk with errors that point at the line,
and reloaded while a service runs."""
