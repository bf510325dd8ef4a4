"""The reference border-service peer: its own process, its own SQLite store, its own key.

It imports nothing from Django and never touches the registry's database; it knows the
registry only by its public key and the messages it receives (docs/exchange-protocol.md).
"""
