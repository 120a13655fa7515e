from . import chat, executions, health
