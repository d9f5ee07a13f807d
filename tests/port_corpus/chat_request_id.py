"""The request id, for support tickets."""
from openai import OpenAI

client = OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
)
print(reply._request_id)
print(reply.id, reply.object, reply.model, reply.system_fingerprint)
