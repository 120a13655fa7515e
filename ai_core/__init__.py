from . import controllers, models, tools, turn
from .logging_filter import install as _install_log_guards

# After the models: every ai_core logger exists by now and gets the secret filter.
_install_log_guards()
