"""Tool-call events of the stream() helper."""
from openai import OpenAI

# server: Reply(raw_stream=sse(
#   chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
#   "function": {"name": "add", "arguments": "{\"a\": 1,"}}]}),
#   chunk({"tool_calls": [{"index": 0, "function": {"arguments": " \"b\": 2}"}}]}),
#   chunk({"tool_calls": [{"index": 1, "id": "call_2", "type": "function",
#   "function": {"name": "neg", "arguments": "{\"a\": 3}"}}]}),
#   chunk({}, "tool_calls")))
client = OpenAI()
with client.chat.completions.stream(
    model="gpt-4o",
    messages=[{"role": "user", "content": "1 + 2, then -3"}],
    tools=[{"type": "function",
            "function": {"name": "add", "strict": True, "parameters": {"type": "object"}}},
           {"type": "function", "function": {"name": "neg", "parameters": {"type": "object"}}}],
) as stream:
    for event in stream:
        if event.type == "tool_calls.function.arguments.delta":
            print("delta", event.index, event.name, repr(event.arguments_delta))
        elif event.type == "tool_calls.function.arguments.done":
            print("done", event.index, event.name, event.arguments, event.parsed_arguments)
final = stream.get_final_completion()
print([call.function.name for call in final.choices[0].message.tool_calls])
