"""Sound Forge Alchemy's Python sidecar: a warm process that the engine talks to over JSON lines.

Run it with ``python -m sfa_sidecar``. See ``protocol.py`` for the message shapes.
"""

import json as _json
from pathlib import Path as _Path

# protocol.json is the one definition of the messages, shared with the engine's TypeScript.
PROTOCOL = _json.loads((_Path(__file__).with_name("protocol.json")).read_text(encoding="utf-8"))
PROTOCOL_VERSION: int = PROTOCOL["version"]
