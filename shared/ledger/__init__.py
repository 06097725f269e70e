"""The ledger: every ticket, every event, every deadline and every outgoing message, in SQL.

It is the truth; the brokers only carry copies. A state change and the
outbox rows that announce it are written in one transaction, so a crash can
lose neither without the other.
"""
