"""Tool calls assembled from streamed deltas."""
from openai import OpenAI

# server: Reply(raw_stream=sse(
#   chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_9", "type": "function",
#   "function": {"name": "lookup", "arguments": ""}}]}),
#   chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"q\": "}}]}),
#   chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\"tea\"}"}}]}),
#   chunk({}, "tool_calls")))
client = OpenAI()
stream = client.chat.completions.create(
    model="gpt-4o",
    messages=[{"role": "user", "content": "Look up tea"}],
    tools=[{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
    stream=True,
)
calls = {}
for chunk in stream:
    for delta in chunk.choices[0].delta.tool_calls or []:
        call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
        if delta.id:
            call["id"] = delta.id
        if delta.function and delta.function.name:
            call["name"] += delta.function.name
        if delta.function and delta.function.arguments:
            call["arguments"] += delta.function.arguments
print(calls)
