"""What the offline AWS loads at start-up (baton.local.loading): moto's Batch models (and
EC2's) only when used, and each botocore model file once per process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import ROOT


def _python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_the_interpreter_loads_without_batch_or_ec2_models():
    printed = _python(
        """
        import sys
        import baton.local.seams  # the Step Functions interpreter and every seam
        print(sorted(m for m in sys.modules if m.startswith(("moto.ec2", "moto.batch.models"))))
        from moto.batch import batch_backends  # moto's backend lookup still finds them
        print(type(batch_backends).__name__, "moto.ec2" in sys.modules)
        """
    )
    assert printed.splitlines() == ["[]", "BackendDict True"]


def test_every_botocore_session_shares_one_loader():
    printed = _python(
        """
        import baton.local, boto3, botocore.session
        a, b = boto3.session.Session(), botocore.session.Session()
        print(a._session.get_component("data_loader") is b.get_component("data_loader"))
        import moto.core.utils as utils
        print(utils.create_loader() is utils.create_loader())
        """
    )
    assert printed.splitlines() == ["True", "True"]
