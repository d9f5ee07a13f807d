"""A whole reply as JSON, for logging or caching."""
import json

from openai import OpenAI

client = OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Cache me"}]
)
data = json.loads(reply.model_dump_json())
print(data["object"], data["choices"][0]["message"]["content"], data["usage"]["total_tokens"])
print(json.loads(reply.to_json())["id"] == reply.id)
print(reply.to_dict()["model"])
