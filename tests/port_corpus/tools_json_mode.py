"""JSON mode: the content is a JSON document."""
import json

from openai import OpenAI

# server: Reply(content="{\"answer\": 42, \"unit\": \"none\"}")
client = OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Answer in JSON"}],
    response_format={"type": "json_object"},
)
print(json.loads(reply.choices[0].message.content))
