"""The parts that know no endpoint: pointers, findings, keys, transport, boxes."""

__all__: list[str] = []
