"""The domain core: plain Python, no broker, database or web framework.

Everything here is pure and fast so that the rules a district lives by (who
gets a task, when a clock runs out, which moves a ticket may make) can be
tested in microseconds and explained to a dispatcher without a running system.
"""
