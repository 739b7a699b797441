"""``python -m riff_sandbox NAME --port P [--data-dir D] [--host H] [--seed-size N]``: one sandbox in the
foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from riff_sandbox.registry import SANDBOXES
from riff_sandbox.toolkit.app import create_sandbox_app
from riff_sandbox.toolkit.platform import SandboxConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m riff_sandbox", description=__doc__)
    parser.add_argument("name", choices=sorted(SANDBOXES))
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", type=Path, default=Path(".riff"))
    parser.add_argument("--seed-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    platform_cls = SANDBOXES[args.name]
    config = SandboxConfig(name=args.name, data_dir=args.data_dir, seed=args.seed, seed_size=args.seed_size)
    app = create_sandbox_app(platform_cls, config)
    sys.stderr.write(
        f"{args.name} sandbox: API at http://{args.host}:{args.port}{platform_cls.api_base_path}"
        f" (token {platform_cls.default_token!r}), control at /_sandbox\n"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", loop="asyncio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
