"""The function-calling guide's loop: call the tool, send the result back."""
import json

from openai import OpenAI

# server: Reply(body={"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
#   "model": "gpt-4o", "choices": [{"index": 0, "finish_reason": "tool_calls",
#   "message": {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1",
#   "type": "function", "function": {"name": "get_weather",
#   "arguments": "{\"city\": \"Paris\"}"}}]}}],
#   "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})
client = OpenAI()
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}]
messages = [{"role": "user", "content": "Weather in Paris?"}]
response = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
message = response.choices[0].message
messages.append(message)
for tool_call in message.tool_calls:
    args = json.loads(tool_call.function.arguments)
    print(tool_call.id, tool_call.type, tool_call.function.name, args)
    messages.append({"role": "tool", "tool_call_id": tool_call.id, "content": "sunny, 21C"})
final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
print(response.choices[0].finish_reason, final.choices[0].message.content)
