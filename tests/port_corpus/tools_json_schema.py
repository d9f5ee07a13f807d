"""Structured outputs with a JSON schema given as a dict."""
import json

from openai import OpenAI

# server: Reply(content="{\"name\": \"Ada\", \"age\": 36}")
client = OpenAI()
schema = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
reply = client.chat.completions.create(
    model="gpt-4o",
    messages=[{"role": "user", "content": "Extract: Ada, 36"}],
    response_format={"type": "json_schema",
                     "json_schema": {"name": "person", "schema": schema, "strict": True}},
)
person = json.loads(reply.choices[0].message.content)
print(person["name"], person["age"])
