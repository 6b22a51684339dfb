"""A SageMaker emulator reached over HTTP by boto3; S3, SNS, CloudWatch and Cost Explorer come from moto.

Start it with `python -m emulator` or, in tests, `emulator.start(port=0)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.process import EmulatorHandle, start

__all__ = ["EmulatorHandle", "start"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `python -m emulator.artifacts` need not load moto's server.
    if name in __all__:
        from emulator import process

        return getattr(process, name)
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
