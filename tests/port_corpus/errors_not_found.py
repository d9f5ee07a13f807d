"""An unknown model."""
import openai
from openai import OpenAI

client = OpenAI()
try:
    client.models.retrieve("gpt-9-ultra")
except openai.NotFoundError as e:
    print(e.status_code, e.code, e.param)
    print(e.body["message"])
