"""`python3 lab/labctl ...` (what scripts/lab runs) and `python3 -m labctl` / `-m lab.labctl`."""

import sys
from pathlib import Path

if __package__:  # python3 -m labctl | lab.labctl
    from .cli import main
else:  # python3 lab/labctl: the directory itself is sys.path[0]; make it lab/, whose package labctl is
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from labctl.cli import main

sys.exit(main())
