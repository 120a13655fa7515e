from . import workflows
