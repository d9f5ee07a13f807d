"""openai.pydantic_function_tool: a strict tool from a model, its arguments parsed."""
import openai
from openai import OpenAI
from pydantic import BaseModel

# server: Reply(tool_calls=[{"name": "GetWeather", "arguments": {"city": "Paris", "days": 2}}])


class GetWeather(BaseModel):
    """Get the weather forecast for a city."""

    city: str
    days: int


client = OpenAI()
completion = client.chat.completions.parse(
    model="gpt-4o", messages=[{"role": "user", "content": "Weather in Paris for 2 days?"}],
    tools=[openai.pydantic_function_tool(GetWeather)])
call = completion.choices[0].message.tool_calls[0]
print(call.function.name, call.function.parsed_arguments)
print(completion.choices[0].finish_reason)
