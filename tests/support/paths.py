"""Where the tests find the repository, their data and their artifacts (kept for a person to look at)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "support" / "data"
SCHEMAS = REPO / "tests" / "support" / "schemas"
BEVY_STUB = REPO / "tests" / "support" / "bevy_stub"
ARTIFACTS = REPO / "artifacts"
