"""The Responses quickstart: instructions, input, output_text and usage."""
from openai import OpenAI

client = OpenAI()
response = client.responses.create(
    model="gpt-4o",
    instructions="You are a coding assistant that talks like a pirate.",
    input="How do I check if a Python object is an instance of a class?",
)
print(response.output_text)
print(response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens)
print(response.usage.output_tokens_details.reasoning_tokens, response.status, response.output[0].type)
