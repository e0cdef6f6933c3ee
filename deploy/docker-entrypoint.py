#!/usr/local/bin/python
"""The image's entrypoint: run `csd` with the container's arguments, after reading every
`CSD_<NAME>_FILE` variable's file into `CSD_<NAME>`.

The settings (services/runtime/settings.py) are environment variables; some of them are secrets
(CSD_PAYLOAD_KEYS, CSD_PHONE_WEBHOOK_SECRET, CSD_SMTP_PASSWORD, a database URL holding its
password). Compose `secrets:` and Kubernetes secret volumes deliver files, and a secret in a
file stays out of `docker inspect` and the pod spec: `CSD_PAYLOAD_KEYS_FILE=/run/secrets/
payload_keys` becomes `CSD_PAYLOAD_KEYS` for csd alone. The variable itself, when also set,
wins, so nothing changes for a deployment that sets it directly.
"""

import os
import sys
from pathlib import Path

SUFFIX = "_FILE"

for name, path in list(os.environ.items()):
    if name.startswith("CSD_") and name.endswith(SUFFIX):
        target = name.removesuffix(SUFFIX)
        if target not in os.environ:
            os.environ[target] = Path(path).read_text(encoding="utf-8").strip()
        del os.environ[name]

os.execvp("csd", ["csd", *sys.argv[1:]])
