"""A server error with retries turned off."""
import openai
from openai import OpenAI

# server: Reply(status=503)
client = OpenAI(max_retries=0)
try:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
except openai.InternalServerError as e:
    print(type(e).__name__, e.status_code, isinstance(e, openai.APIStatusError))
    print(str(e))
