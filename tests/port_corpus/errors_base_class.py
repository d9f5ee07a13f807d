"""Catching everything the SDK raises."""
import openai
from openai import OpenAI

# server: Reply(status=422, body={"error": {"message": "Unprocessable.", "type": "invalid_request_error", "param": None, "code": None}})
client = OpenAI()
try:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
except openai.OpenAIError as e:
    print(type(e).__name__, isinstance(e, openai.UnprocessableEntityError))
    print(e)
