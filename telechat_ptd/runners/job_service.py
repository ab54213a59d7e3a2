"""Beam's local job service with the FnApiRunner data-plane fix (runners/fnapi_data_plane.py).

``python -m apache_beam.runners.portability.local_job_service_main`` runs each submitted job
in its own process with Beam's FnApiRunner, which drops elements of stage inputs over ~200 MB.
This entry point installs the fix first and then serves exactly as Beam's does, with the same
options: ``python -m telechat_ptd.runners.job_service --port 8099``.
"""

from __future__ import annotations

import logging
import signal
import sys

from telechat_ptd.runners import fnapi_data_plane


def main(argv: list[str] | None = None) -> int:
    from apache_beam.runners.portability import local_job_service_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--background" in argv:
        # Beam's --background re-launches its own module, without the fix.
        print("job_service: --background is not supported; start it with your shell's '&' or a service manager",
              file=sys.stderr)
        return 2
    fnapi_data_plane.install()
    local_job_service_main.run(argv)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.basicConfig(level=logging.INFO)
    sys.exit(main())
