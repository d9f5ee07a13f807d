"""Conversation state: previous_response_id, retrieve, input_items, delete."""
from openai import OpenAI

client = OpenAI()
first = client.responses.create(model="gpt-4o-mini", input="tell me a joke", store=True)
second = client.responses.create(model="gpt-4o-mini", previous_response_id=first.id,
                                 input=[{"role": "user", "content": "explain why this is funny."}])
print(second.output_text)
got = client.responses.retrieve(first.id)
print(got.id == first.id, got.output_text)
for item in client.responses.input_items.list(first.id):
    print(item.type, item.role)
client.responses.delete(first.id)
