// Drives the Gateway with the official Node SDKs (openai, @anthropic-ai/sdk), as LobeChat, Cherry Studio, Claude Code
// and most agents do, and prints one JSON line per scenario: {"name", "ok", ...what it saw} or {"name", "ok": false,
// "error"}. Run by NodeSdkTests (tests/Flowith2Api.Tests/EndToEnd), which checks every line.
//   GATEWAY_URL=http://127.0.0.1:8787 API_KEY=sk-... node probe.mjs
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const gateway = process.env.GATEWAY_URL.replace(/\/$/, '');
const key = process.env.API_KEY;
const openai = new OpenAI({ apiKey: key, baseURL: `${gateway}/v1`, maxRetries: 0, timeout: 30_000 });
const anthropic = new Anthropic({ apiKey: key, baseURL: gateway, maxRetries: 0, timeout: 30_000 });

/** A prompt that makes the fake Flowith answer exactly `text` (in chunks of `chunk` characters). */
const says = (text, chunk = 4) => `[[fake:text=${encodeURIComponent(text)};chunk=${chunk}]] go`;

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const toolCallText = 'Let me check. <tool_call name="get_weather">{"city": "Paris"}</tool_call>';

const scenarios = {
  async 'openai.chat'() {
    const completion = await openai.chat.completions.create({ model: 'flowith', messages: [{ role: 'user', content: says('Hello from Flowith.') }] });
    const choice = completion.choices[0];
    return { text: choice.message.content, finish: choice.finish_reason, object: completion.object, usage: completion.usage };
  },

  async 'openai.chat.stream'() {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4.1', stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: says('Streaming, chunk by chunk.', 3) }],
    });
    let text = '', chunks = 0, finish = null, usage = null, role = null;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      role ??= choice.delta.role ?? null;
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
    return { text, chunks, finish, usage, role };
  },

  async 'openai.chat.reasoning'() {
    const completion = await openai.chat.completions.create({ model: 'deepseek-r1', messages: [{ role: 'user', content: says('<think>Two plus two.</think>It is 4.') }] });
    const message = completion.choices[0].message;
    return { text: message.content, reasoning: message.reasoning_content ?? null };
  },

  async 'openai.chat.tools'() {
    const messages = [{ role: 'user', content: says(toolCallText) }];
    const first = await openai.chat.completions.create({ model: 'flowith', messages, tools: [weather] });
    const call = first.choices[0].message.tool_calls?.[0];
    messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"temperature_c": 21}' });
    const second = await openai.chat.completions.create({ model: 'flowith', messages, tools: [weather] });
    return {
      finish: first.choices[0].finish_reason, text: first.choices[0].message.content, tool: call.function.name,
      args: JSON.parse(call.function.arguments), id: call.id, finalFinish: second.choices[0].finish_reason,
      finalText: second.choices[0].message.content,
    };
  },

  async 'openai.chat.tools.stream'() {
    // The SDK's own stream helper assembles the tool-call deltas: it is what fails when their shape is off.
    const runner = openai.chat.completions.stream({ model: 'flowith', messages: [{ role: 'user', content: says(toolCallText, 5) }], tools: [weather] });
    const final = await runner.finalChatCompletion();
    const choice = final.choices[0];
    const call = choice.message.tool_calls?.[0];
    return { finish: choice.finish_reason, text: choice.message.content, tool: call?.function.name, args: call ? JSON.parse(call.function.arguments) : null };
  },

  async 'openai.responses'() {
    const response = await openai.responses.create({ model: 'flowith', input: says('A response.'), store: false });
    return { text: response.output_text, status: response.status, object: response.object, usage: response.usage };
  },

  async 'openai.responses.stream'() {
    const types = [];
    const stream = openai.responses.stream({ model: 'flowith', input: says('Streamed response.', 3), instructions: 'Be brief.' });
    stream.on('event', (event) => types.push(event.type));
    const final = await stream.finalResponse();
    const again = await openai.responses.retrieve(final.id);
    const continued = await openai.responses.create({ model: 'flowith', input: says('Second turn.'), previous_response_id: final.id });
    return { text: final.output_text, status: final.status, first: types[0], last: types.at(-1), retrieved: again.output_text, continued: continued.output_text };
  },

  async 'openai.models'() {
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    const one = await openai.models.retrieve('flowith');
    return { ids, one: one.id, object: one.object };
  },

  async 'openai.errors'() {
    const bad = new OpenAI({ apiKey: 'sk-not-a-key', baseURL: `${gateway}/v1`, maxRetries: 0 });
    const seen = {};
    try { await bad.chat.completions.create({ model: 'flowith', messages: [{ role: 'user', content: 'hi' }] }); } catch (e) {
      seen.auth = { status: e.status, type: e.type ?? e.error?.type, isAuth: e instanceof OpenAI.AuthenticationError };
    }
    try { await openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }); } catch (e) {
      seen.model = { status: e.status, code: e.code, isNotFound: e instanceof OpenAI.NotFoundError };
    }
    try { await openai.chat.completions.create({ model: 'flowith', messages: [] }); } catch (e) {
      seen.invalid = { status: e.status, isBadRequest: e instanceof OpenAI.BadRequestError, message: e.message };
    }
    return seen;
  },

  async 'anthropic.messages'() {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4', max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: says('Hello from Claude.') }],
    });
    return { text: message.content.map((b) => b.text ?? '').join(''), stop: message.stop_reason, type: message.type, role: message.role, usage: message.usage };
  },

  async 'anthropic.stream'() {
    const types = [];
    let text = '';
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4', max_tokens: 200, messages: [{ role: 'user', content: says('Streaming Claude.', 3) }] });
    stream.on('streamEvent', (event) => types.push(event.type));
    stream.on('text', (delta) => { text += delta; });
    const final = await stream.finalMessage();
    return { text, finalText: final.content.map((b) => b.text ?? '').join(''), stop: final.stop_reason, first: types[0], last: types.at(-1), usage: final.usage };
  },

  async 'anthropic.thinking'() {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: says('<think>Two plus two.</think>It is 4.') }],
    });
    return { blocks: message.content.map((b) => b.type), thinking: message.content.find((b) => b.type === 'thinking')?.thinking ?? null,
      text: message.content.find((b) => b.type === 'text')?.text ?? null };
  },

  async 'anthropic.tools'() {
    const tools = [{ name: 'get_weather', description: 'Current weather for a city', input_schema: weather.function.parameters }];
    const messages = [{ role: 'user', content: says(toolCallText) }];
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4', max_tokens: 500, tools, messages });
    const first = await stream.finalMessage();
    const use = first.content.find((b) => b.type === 'tool_use');
    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"temperature_c": 21}' }] });
    const second = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 500, tools, messages });
    return { stop: first.stop_reason, tool: use.name, input: use.input, id: use.id, finalStop: second.stop_reason };
  },

  async 'anthropic.count_tokens'() {
    const counted = await anthropic.messages.countTokens({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'How many tokens is this sentence?' }] });
    return { input_tokens: counted.input_tokens };
  },

  async 'anthropic.models'() {
    const ids = [];
    for await (const model of anthropic.models.list()) ids.push(model.id);
    return { ids };
  },

  async 'anthropic.errors'() {
    const bad = new Anthropic({ apiKey: 'sk-not-a-key', baseURL: gateway, maxRetries: 0 });
    const seen = {};
    try { await bad.messages.create({ model: 'claude-sonnet-4', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }); } catch (e) {
      seen.auth = { status: e.status, type: e.error?.error?.type, isAuth: e instanceof Anthropic.AuthenticationError };
    }
    try { await anthropic.messages.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }] }); } catch (e) {
      seen.invalid = { status: e.status, type: e.error?.error?.type, isBadRequest: e instanceof Anthropic.BadRequestError };
    }
    return seen;
  },
};

for (const [name, run] of Object.entries(scenarios)) {
  try {
    console.log(JSON.stringify({ ...(await run()), name, ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ name, ok: false, error: `${e?.constructor?.name}: ${e?.status ?? ''} ${e?.message ?? e}` }));
  }
}
