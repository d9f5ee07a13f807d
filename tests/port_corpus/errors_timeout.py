"""A per-call timeout that expires."""
import openai
from openai import OpenAI

# server: Reply(delay=1.0)
client = OpenAI(max_retries=0)
try:
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "slow"}], timeout=0.2
    )
except openai.APITimeoutError as e:
    print("timed out:", type(e).__name__, isinstance(e, openai.APIConnectionError))
