"""The README's error handling example."""
import openai
from openai import OpenAI

# server: Reply(status=400, body={"error": {"message": "Bad input.", "type": "invalid_request_error", "param": "messages", "code": "bad"}})
client = OpenAI()
try:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
except openai.APIConnectionError as e:
    print("The server could not be reached")
    print(e.__cause__)
except openai.RateLimitError:
    print("A 429 status code was received; we should back off a bit.")
except openai.APIStatusError as e:
    print("Another non-200-range status code was received")
    print(e.status_code)
    print(e.message)
    print(e.body["param"], e.param, e.code)
