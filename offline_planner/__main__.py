"""Entry point: ``python -m offline_planner [--host H] [--port P] ...``."""

import sys

from offline_planner.config import parse_args
from offline_planner.server import make_server


def main(argv=None) -> int:
    config = parse_args(argv)
    server = make_server(config)
    host, port = server.server_address[:2]
    # Launchers (tests/support/planner_process.py) read this line to learn the port.
    print(f"offline planner listening on http://{host}:{port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
