"""The module-level client."""
import os

import openai

openai.api_key = os.environ["OPENAI_API_KEY"]
openai.base_url = os.environ["OPENAI_BASE_URL"] + "/"
completion = openai.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "module level"}]
)
print(completion.choices[0].message.content)
