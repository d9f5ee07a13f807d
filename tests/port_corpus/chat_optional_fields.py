"""Optional fields the server left out read as None."""
from openai import OpenAI

client = OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
)
message = reply.choices[0].message
print(message.tool_calls, message.function_call, message.refusal, message.audio)
print(reply.service_tier, reply.choices[0].logprobs)
if message.tool_calls:
    print("tools")
else:
    print("no tools")
