"""A wrong key."""
import openai
from openai import OpenAI

# server: Reply(status=401)
client = OpenAI(api_key="sk-wrong")
try:
    client.models.list()
except openai.AuthenticationError as e:
    print(e.status_code, e.body["code"], e.body["type"])
