"""with_streaming_response: the event stream's raw lines."""
from openai import OpenAI

client = OpenAI()
with client.chat.completions.with_streaming_response.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "two words"}],
    stream=True,
) as response:
    print(response.status_code, response.headers.get("content-type"))
    lines = [line for line in response.iter_lines() if line]
print(len(lines), lines[-1])
