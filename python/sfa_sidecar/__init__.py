"""Sound Forge Alchemy's Python sidecar: a warm process that the engine talks to over JSON lines.

Run it with ``python -m sfa_sidecar``. See ``protocol.py`` for the message shapes.
"""

PROTOCOL_VERSION = 1
