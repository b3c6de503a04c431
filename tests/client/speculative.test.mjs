// `dsinfer serve --speculative-tokens 2` (MTP drafts) against a plain server
// on the same demo model, through the official client: concurrent greedy
// requests (streamed and not) return the same text and usage, and /metrics
// counts the drafts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, completeGreedy } from './server.mjs';

let spec, plain;

before(async () => {
  spec = await startServer(['--speculative-tokens', '2', '--kv-cache-pages', '64', '--max-num-batched-tokens', '64']);
  plain = await startServer(['--kv-cache-pages', '64', '--max-num-batched-tokens', '64']);
});

after(async () => {
  for (const s of [spec, plain]) {
    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
});


const complete = (s, prompt, stream) => completeGreedy(s, prompt, stream, 20);

test('speculative decoding serves the plain server\'s greedy text', async () => {
  const prompts = ['The capital of France is', 'Mixture of experts', 'def fib(n):', 'Once upon a time',
    'MLA caches a latent', '1, 2, 3, 4,'];
  for (const stream of [false, true]) {
    const a = await Promise.all(prompts.map((p) => complete(spec, p, stream)));
    const b = await Promise.all(prompts.map((p) => complete(plain, p, stream)));
    for (let i = 0; i < prompts.length; ++i) {
      assert.equal(a[i].tokens, 20);
      assert.equal(a[i].text, b[i].text, `prompt ${i} (stream ${stream})`);
    }
  }
  const metrics = await (await fetch(spec.baseURL + '/metrics')).text();
  const drafted = Number(/dsinfer_spec_decode_num_draft_tokens_total\{[^}]*\} (\d+)/.exec(metrics)[1]);
  assert.ok(drafted > 0, 'drafts counted');
});
