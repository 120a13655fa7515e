from . import kb_tools
