"""The filesystem broker (no Redis), with messages that appear in the queue folder whole.

kombu's filesystem transport creates a message file and then writes it; a consumer listing
the folder in between moves and reads an empty file, fails on it ("Unrecoverable error:
JSONDecodeError") and the worker dies. Workers send tasks themselves (a sweep's chunks,
webhooks), so a consumer and a producer meet in the same folder all the time. Here a message
is written under a name no consumer picks (no `.msg` suffix), then renamed into place:
rename is atomic within a folder, so a consumer sees the whole file or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: written aside, renamed into the queue folder."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".partial-{uuid.uuid4()}")
        try:
            with open(partial, "wb", buffering=0) as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


# `filesystem://` (the setting's default without Redis) means this transport.
TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
