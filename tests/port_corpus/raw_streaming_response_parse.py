"""with_streaming_response of a plain call, parsed."""
from openai import OpenAI

client = OpenAI()
with client.chat.completions.with_streaming_response.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "parse me"}]
) as response:
    print(response.headers.get("x-request-id"))
    completion = response.parse()
    print(completion.choices[0].message.content)
