"""The torch ring example runs (small settings) and ends with its result line."""

import re
import subprocess
import sys

from conftest import ROOT


def test_train_ring_example_runs():
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_ring.py"), "--epochs", "2",
         "--finetune-epochs", "1", "--train", "64", "--test", "32"],
        capture_output=True, text=True, timeout=600, check=True,
    ).stdout
    last = out.strip().splitlines()[-1]
    m = re.fullmatch(r"held-out topology errors: dice=(\d+) dice\+topo=(\d+) of 32", last)
    assert m, last
    assert all(0 <= int(v) <= 32 for v in m.groups())
