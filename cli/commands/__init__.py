"""Each module adds its commands to the one app; import order is help order."""

from . import server  # noqa: F401
from . import accounts, send, sync, outbox, chat  # noqa: F401
from . import archive, transfer, backup  # noqa: F401
from . import search  # noqa: F401
from . import browse  # noqa: F401
from . import stats  # noqa: F401
from . import demo  # noqa: F401
