"""Requests to send, made from the contracts: mutations, patterns, strategies."""

__all__: list[str] = []
