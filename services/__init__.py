"""Hotline dispatch: take citizens' requests, route each to the unit that must act,
and watch the clock until it is done."""
