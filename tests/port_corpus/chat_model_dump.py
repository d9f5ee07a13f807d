"""model_dump() of the message, appended as a dict."""
from openai import OpenAI

client = OpenAI()
messages = [{"role": "user", "content": "Hello"}]
reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
message = reply.choices[0].message.model_dump(exclude_none=True)
print(message["role"], message["content"])
messages.append(message)
messages.append({"role": "user", "content": "And again"})
again = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
print(again.choices[0].message.content)
