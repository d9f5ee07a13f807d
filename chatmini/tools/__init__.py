"""The tool loop (``client.chat.completions.run_tools``, ``client.responses.run_tools``): one
loop (``loop``) over each API's small adapter (``apis``), running the tools the model asks for
in threads with deadlines (``execute``)."""

from .execute import ToolInvocation
from .loop import ToolRun, ToolRunEvent, ToolRunStream, run_chat_tools, run_responses_tools

__all__ = ["ToolInvocation", "ToolRun", "ToolRunEvent", "ToolRunStream", "run_chat_tools",
           "run_responses_tools"]
