// Drives the Gateway with the Vercel AI SDK (ai, @ai-sdk/openai, @ai-sdk/anthropic), the framework most TypeScript
// agents and chat apps are built on, through its three providers' wire APIs (OpenAI chat completions, OpenAI Responses,
// Anthropic messages), and prints one JSON line per scenario: {"name", "ok", ...what it saw} or {"name", "ok": false,
// "error"}. Run by AiSdkTests (tests/Flowith2Api.Tests/EndToEnd), which checks every line.
//   GATEWAY_URL=http://127.0.0.1:8787 API_KEY=sk-... node ai-sdk.mjs
import { generateObject, generateText, streamObject, streamText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { z } from 'zod';

const gateway = process.env.GATEWAY_URL.replace(/\/$/, '');
const key = process.env.API_KEY;
const openai = createOpenAI({ apiKey: key, baseURL: `${gateway}/v1` });
const anthropic = createAnthropic({ apiKey: key, baseURL: `${gateway}/v1` });

/** A prompt that makes the fake Flowith answer exactly `text` (in chunks of `chunk` characters). */
const says = (text, chunk = 7) => `[[fake:text=${encodeURIComponent(text)};chunk=${chunk}]] go`;

const city = z.object({ name: z.string(), population: z.number().int(), landmarks: z.array(z.string()) });
const paris = { name: 'Paris', population: 2102650, landmarks: ['Eiffel Tower', 'Louvre'] };
// What models do when asked for JSON: a sentence, a Markdown fence, and a sentence after.
const fenced = `Here is the city you asked for:\n\n\`\`\`json\n${JSON.stringify(paris, null, 2)}\n\`\`\`\n\nLet me know if you need more.`;
const long = Array.from({ length: 120 }, (_, i) => `Sentence number ${i + 1} keeps the answer going.`).join(' ');

const models = {
  chat: () => openai.chat('gpt-4.1'),
  responses: () => openai.responses('gpt-4.1'),
  anthropic: () => anthropic('claude-sonnet-4'),
};

const usage = (u) => ({ input: u?.inputTokens ?? null, output: u?.outputTokens ?? null });

const scenarios = {};
for (const [api, model] of Object.entries(models)) {
  scenarios[`${api}.generateObject`] = async () => {
    const result = await generateObject({ model: model(), schema: city, prompt: says(fenced), maxRetries: 0 });
    return { object: result.object, finish: result.finishReason, usage: usage(result.usage) };
  };

  scenarios[`${api}.streamObject`] = async () => {
    const result = streamObject({ model: model(), schema: city, prompt: says(fenced, 5), maxRetries: 0 });
    let partials = 0;
    for await (const _ of result.partialObjectStream) partials++;
    return { object: await result.object, partials, finish: await result.finishReason };
  };

  scenarios[`${api}.generateText.maxOutputTokens`] = async () => {
    const result = await generateText({ model: model(), prompt: says(long), maxOutputTokens: 20, maxRetries: 0 });
    return { text: result.text, finish: result.finishReason, usage: usage(result.usage) };
  };

  scenarios[`${api}.streamText.maxOutputTokens`] = async () => {
    const result = streamText({ model: model(), prompt: says(long, 5), maxOutputTokens: 20, maxRetries: 0 });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    return { text, finish: await result.finishReason, usage: usage(await result.usage) };
  };

  scenarios[`${api}.generateText`] = async () => {
    const result = await generateText({ model: model(), system: 'Be brief.', prompt: says('Hello from the AI SDK.'), maxRetries: 0 });
    return { text: result.text, finish: result.finishReason, usage: usage(result.usage) };
  };
}

for (const [name, run] of Object.entries(scenarios)) {
  try {
    console.log(JSON.stringify({ ...(await run()), name, ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ name, ok: false, error: `${e?.constructor?.name}: ${e?.statusCode ?? ''} ${e?.message ?? e} ${e?.responseBody ?? e?.text ?? ''}`.slice(0, 2000) }));
  }
}
