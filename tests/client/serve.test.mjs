// A real `dsinfer serve` on 127.0.0.1 (the built-in random-weight R1-shaped
// demo: real tokenizer and R1 chat template), driven by the official OpenAI
// client. DSINFER_BINARY names the executable; DSINFER_CACHE_DIR where the
// demo checkpoint is generated on first use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import OpenAI from 'openai';

const KEY = 'test-key';
let server, baseURL, client, exitCode;

before(async () => {
  ({ proc: server, baseURL, exited: exitCode } = await startServer(['--api-key', KEY, '--max-model-len', '384',
    '--kv-cache-pages', '96', '--page-size', '16', '--max-num-batched-tokens', '128', '--shutdown-grace', '2']));
  client = new OpenAI({ baseURL: baseURL + '/v1', apiKey: KEY, maxRetries: 0 });
});

after(async () => {
  server.kill('SIGTERM');
  assert.equal(await exitCode, 0, 'SIGTERM ends the server with exit code 0');
});

const user = (text) => [{ role: 'user', content: text }];

async function raw(method, path, body, headers = {}) {
  const res = await fetch(baseURL + path, {
    method, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}`, ...headers },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

async function tokenCount(messages) {
  const r = await raw('POST', '/tokenize', { messages });
  assert.equal(r.status, 200);
  return r.json.count;
}

test('models lists the served model', async () => {
  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].id, 'dsinfer-demo-r1');
});

test('chat completion: content, reasoning split, usage equal to the tokens sent', async () => {
  const messages = user('Say something.');
  const r = await client.chat.completions.create({ model: 'dsinfer-demo-r1', messages, max_tokens: 24, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  // The R1 template opens <think>: until a </think> everything is reasoning.
  assert.equal(typeof c.message.reasoning_content, 'string');
  assert.ok(!c.message.content.includes('<think>') && !c.message.reasoning_content.includes('</think>'));
  assert.ok(['length', 'stop'].includes(c.finish_reason));
  assert.equal(r.usage.prompt_tokens, await tokenCount(messages));
  if (c.finish_reason === 'length') assert.equal(r.usage.completion_tokens, 24);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('chat stream: role first, deltas, finish_reason, usage, [DONE]', async () => {
  const stream = await client.chat.completions.create({
    model: 'dsinfer-demo-r1', messages: user('Count to ten.'), max_tokens: 20, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let first = true, text = '', finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    ++chunks;
    if (chunk.usage) { usage = chunk.usage; assert.equal(chunk.choices.length, 0); continue; }
    const d = chunk.choices[0].delta;
    if (first) { assert.equal(d.role, 'assistant'); first = false; }
    text += (d.content ?? '') + (d.reasoning_content ?? '');
    if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
  }
  assert.ok(chunks > 2);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 20);
  // The same request without streaming gives the same text (greedy).
  const whole = await client.chat.completions.create({ model: 'dsinfer-demo-r1', messages: user('Count to ten.'), max_tokens: 20, temperature: 0 });
  assert.equal(text, whole.choices[0].message.content + whole.choices[0].message.reasoning_content);
});

test('completions from text and from token ids agree', async () => {
  const a = await client.completions.create({ model: 'dsinfer-demo-r1', prompt: 'The capital of France is', max_tokens: 8, temperature: 0 });
  assert.equal(a.object, 'text_completion');
  const ids = (await raw('POST', '/tokenize', { prompt: 'The capital of France is' })).json.tokens;
  const b = await client.completions.create({ model: 'dsinfer-demo-r1', prompt: ids, max_tokens: 8, temperature: 0 });
  assert.equal(a.choices[0].text, b.choices[0].text);
  assert.equal(a.usage.prompt_tokens, ids.length);
  const d = await raw('POST', '/detokenize', { tokens: ids });
  assert.equal(d.json.prompt, 'The capital of France is');
});

test('seed reproduces a sampled completion; n gives several choices', async () => {
  const req = { model: 'dsinfer-demo-r1', prompt: 'Once upon a time', max_tokens: 12, temperature: 1.0, seed: 1234 };
  const a = await client.completions.create(req);
  const b = await client.completions.create(req);
  assert.equal(a.choices[0].text, b.choices[0].text);
  const n = await client.completions.create({ ...req, n: 3 });
  assert.equal(n.choices.length, 3);
  assert.deepEqual(n.choices.map((c) => c.index), [0, 1, 2]);
  assert.equal(n.choices[0].text, a.choices[0].text, 'choice 0 uses the seed itself');
});

test('stop strings end the output and are never emitted, also in streams', async () => {
  const free = await client.completions.create({ model: 'dsinfer-demo-r1', prompt: 'abc', max_tokens: 40, temperature: 0 });
  const text = free.choices[0].text;
  assert.ok(text.length >= 4, 'needs some text to cut');
  const stop = text.slice(2, 4);  // whatever the model says, cut inside it
  const cut = await client.completions.create({ model: 'dsinfer-demo-r1', prompt: 'abc', max_tokens: 40, temperature: 0, stop });
  assert.equal(cut.choices[0].text, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.choices[0].finish_reason, 'stop');
  const stream = await client.completions.create({ model: 'dsinfer-demo-r1', prompt: 'abc', max_tokens: 40, temperature: 0, stop, stream: true });
  let streamed = '';
  for await (const chunk of stream) streamed += chunk.choices[0]?.text ?? '';
  assert.equal(streamed, cut.choices[0].text);
});

test('logprobs: chosen token first among the top alternatives under greedy', async () => {
  const r = await client.chat.completions.create({
    model: 'dsinfer-demo-r1', messages: user('Hi'), max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const content = r.choices[0].logprobs.content;
  assert.ok(content.length > 0);
  for (const t of content) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
    assert.equal(t.top_logprobs[0].token, t.token);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
  }
});

test('tools are declared to the model (prompt grows), tool history renders, tool_choice none drops them', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const messages = [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function',
      function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_0', content: '{"temp_c": 21}' },
  ];
  const plain = await client.chat.completions.create({ model: 'dsinfer-demo-r1', messages, max_tokens: 4, temperature: 0 });
  const withTools = await client.chat.completions.create({ model: 'dsinfer-demo-r1', messages, tools, max_tokens: 4, temperature: 0 });
  assert.ok(withTools.usage.prompt_tokens > plain.usage.prompt_tokens + 20, 'the declaration is in the prompt');
  const none = await client.chat.completions.create({ model: 'dsinfer-demo-r1', messages, tools, tool_choice: 'none', max_tokens: 4, temperature: 0 });
  assert.equal(none.usage.prompt_tokens, plain.usage.prompt_tokens);
  const bad = await raw('POST', '/v1/chat/completions', { messages: [{ role: 'tool', content: 'x' }] });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.param, 'messages[0].tool_call_id');
});

test('tool_choice required and named force the call opening after the prompt', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const messages = [{ role: 'user', content: 'Weather in Paris?' }];
  const ask = (tool_choice) => client.chat.completions.create({ model: 'dsinfer-demo-r1', messages, tools, tool_choice,
    max_tokens: 4, temperature: 0 });
  const auto = await ask('auto');
  // The call opened in DeepSeek's format (this template does not open <think>
  // itself; where one does, the server closes it first: a unit test).
  const opening = '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>';
  for (const [choice, forced] of [['required', opening],
    [{ type: 'function', function: { name: 'get_weather' } }, opening + 'get_weather\n```json\n']]) {
    const r = await ask(choice);
    const count = (await raw('POST', '/tokenize', { prompt: forced })).json.count;
    assert.ok(count >= 4);
    assert.equal(r.usage.prompt_tokens, auto.usage.prompt_tokens + count, JSON.stringify(choice));
    assert.equal(r.usage.completion_tokens, 4);
    assert.ok(!(r.choices[0].message.content ?? '').includes('</think>'), 'the forced text is not echoed as reasoning');
  }
});

test('errors are OpenAI error objects with the right status', async () => {
  const cases = [
    ['POST', '/v1/chat/completions', '{not json', 400],
    ['POST', '/v1/chat/completions', { model: 'dsinfer-demo-r1', messages: [] }, 400],
    ['POST', '/v1/chat/completions', { messages: [{ role: 'wizard', content: 'x' }] }, 400],
    ['POST', '/v1/chat/completions', { messages: user('x'), temperature: 'hot' }, 400],
    ['POST', '/v1/chat/completions', { messages: user('x'), temperature: 7 }, 400],
    ['POST', '/v1/chat/completions', { messages: user('x'), max_tokens: 100000 }, 400],
    ['POST', '/v1/completions', { prompt: [999999999] }, 400],
    ['POST', '/v1/chat/completions', { model: 'other-model', messages: user('x') }, 404],
    ['GET', '/v1/nothing-here', undefined, 404],
    ['GET', '/v1/chat/completions', undefined, 405],
  ];
  for (const [method, path, body, status] of cases) {
    const r = await raw(method, path, body);
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
    assert.equal(typeof r.json?.error?.message, 'string', r.text);
    assert.ok('type' in r.json.error && 'param' in r.json.error && 'code' in r.json.error);
  }
  const noKey = await raw('GET', '/v1/models', undefined, { Authorization: 'Bearer wrong' });
  assert.equal(noKey.status, 401);
  const big = await raw('POST', '/v1/completions', JSON.stringify({ prompt: 'x'.repeat(40 << 20) }));
  assert.equal(big.status, 413);
  await assert.rejects(client.chat.completions.create({ model: 'dsinfer-demo-r1', messages: [] }),
    (e) => e.status === 400);
});

test('metrics in Prometheus text; no KV pages held by requests at idle', async () => {
  const res = await fetch(baseURL + '/metrics');
  const text = await res.text();
  for (const name of ['dsinfer_num_requests_running', 'dsinfer_num_requests_waiting', 'dsinfer_kv_cache_pages_used',
    'dsinfer_kv_cache_pages_total', 'dsinfer_prefix_cache_hit_rate', 'dsinfer_prompt_tokens_total',
    'dsinfer_generation_tokens_total', 'dsinfer_time_to_first_token_seconds_bucket',
    'dsinfer_inter_token_latency_seconds_bucket', 'dsinfer_e2e_request_latency_seconds_bucket']) {
    assert.ok(text.includes(name), name);
  }
  const used = /dsinfer_kv_cache_pages_used\{[^}]*\} (\d+)/.exec(text);
  assert.equal(Number(used[1]), 0);
  const health = await fetch(baseURL + '/health');
  assert.equal(health.status, 200);
});
