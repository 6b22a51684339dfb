"""A SageMaker emulator reached over HTTP by boto3; S3, SNS, CloudWatch and Cost Explorer come from moto.

Start it with `python -m emulator` or, in tests, `emulator.start(port=0)`.
"""

from __future__ import annotations

from emulator.process import EmulatorHandle, start

__all__ = ["EmulatorHandle", "start"]
