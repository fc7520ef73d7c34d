"""The offline runtime: the compiled state machines run on moto, with the agents in-process.

The Lambda code (functions/) is importable from here on, as it is at the root of a Lambda
package: the runtime calls the agents, and shares the lifecycle and events code with them.

Importing it also makes the offline AWS load less at start-up (baton.local.loading).
"""

import sys
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))

from baton.local.loading import lighten  # noqa: E402

lighten()
