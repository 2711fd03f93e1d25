"""Install Debian's Chromium for the browser tests when it is missing.

Runs apt-get as root (or through sudo when available). On a machine where that is not
possible the browser tests skip with a clear message, except in CI where they must run.
"""

import os
import shutil
import subprocess
import sys

if shutil.which("chromium"):
    sys.exit(0)
prefix: list[str] = []
if os.geteuid() != 0:
    if shutil.which("sudo"):
        prefix = ["sudo", "-n"]
    else:
        print("Chromium is missing and cannot be installed without root; browser tests skip.")
        sys.exit(1 if os.environ.get("CI", "").lower() == "true" else 0)
if not shutil.which("apt-get"):
    print("Chromium is missing and this is not a Debian system; browser tests skip.")
    sys.exit(1 if os.environ.get("CI", "").lower() == "true" else 0)
env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
subprocess.run([*prefix, "apt-get", "update", "-qq"], check=False, env=env)  # noqa: S603
result = subprocess.run(  # noqa: S603
    [
        *prefix,
        "apt-get",
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "chromium",
        "fonts-dejavu-core",
        "fonts-noto-core",
    ],
    check=False,
    env=env,
)
if result.returncode != 0 and os.environ.get("CI", "").lower() == "true":
    sys.exit(result.returncode)
