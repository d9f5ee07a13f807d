"""Catching a rate limit after the retries."""
import openai
from openai import OpenAI

# server: Reply(status=429, headers={"retry-after-ms": "1"})
# server: Reply(status=429, headers={"retry-after-ms": "1"})
# server: Reply(status=429, headers={"retry-after-ms": "1"})
client = OpenAI()
try:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
except openai.RateLimitError as e:
    print("rate limited:", e.status_code, e.code, e.type)
    print(e.body["message"])
