// `mpirun -np 2 dsinfer serve --attn-tp-size 2` (attention TP over both
// ranks, MoE expert parallel, lm_head vocabulary parallel): rank 0 serves
// HTTP and schedules, the other rank runs every step with it. Through the
// official client, concurrent greedy requests (streamed and not, sharing a
// prefix) return the single-process server's text, and SIGTERM stops both
// ranks cleanly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, completeGreedy } from './server.mjs';

let two, one;
const common = ['--kv-cache-pages', '64', '--max-num-batched-tokens', '64'];

before(async () => {
  two = await startServer([...common, '--attn-tp-size', '2', '--lmhead-tp-size', '2'], { ranks: 2 });
  one = await startServer(common);
});

after(async () => {
  one.proc.kill('SIGTERM');
  assert.equal(await one.exited, 0);
  two.proc.kill('SIGTERM');
  await two.exited;
  assert.match(two.log(), /serve: stopped/);
});

const complete = (s, prompt, stream) => completeGreedy(s, prompt, stream, 16);

test('two ranks serve the single process\'s greedy text', async () => {
  const shared = 'You are a helpful assistant. Answer briefly and precisely. ';
  const prompts = ['The capital of France is', shared + 'Mixture of experts', shared + 'def fib(n):',
    'Once upon a time', shared + 'MLA caches a latent', '1, 2, 3, 4,'];
  for (const stream of [false, true]) {
    const a = await Promise.all(prompts.map((p) => complete(two, p, stream)));
    const b = await Promise.all(prompts.map((p) => complete(one, p, stream)));
    for (let i = 0; i < prompts.length; ++i) {
      assert.equal(a[i].tokens, 16);
      assert.equal(a[i].text, b[i].text, `prompt ${i} (stream ${stream})`);
    }
  }
});
