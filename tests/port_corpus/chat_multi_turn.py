"""A conversation: the assistant's message object goes back into messages as it is."""
from openai import OpenAI

client = OpenAI()
messages = [{"role": "user", "content": "Pick a colour"}]
first = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
messages.append(first.choices[0].message)
messages.append({"role": "user", "content": "Why that one?"})
second = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
print(second.choices[0].message.content)
print(len(messages))
