import gc
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def collector_on():
    """The cyclic garbage collector on for the test (as the aitop command runs), back as it was after."""
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()
