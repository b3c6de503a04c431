// Bounded load on a real `dsinfer serve` (the built-in demo model): waves of
// 64 concurrent streaming clients, one wave where half of them hang up mid
// stream, and 256 streams open at once. Every stream must end with a
// finish_reason and [DONE], with no lost or duplicated chunk (each token's
// logprob entry arrives once, in order, and their count equals usage), the
// server keeps serving after the disconnects, holds no KV pages at idle, and
// its resident memory after the last wave is within 5% of after the first (the KV pool
// holds less than 64 requests need at once, so the first wave already
// touches all of it, and preemption runs under load too).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { readFileSync } from 'node:fs';

const WAVE_SECONDS = Number(process.env.DSINFER_LOAD_WAVE_SECONDS ?? 15);
let server, baseURL, exitCode;

before(async () => {
  ({ proc: server, baseURL, exited: exitCode } = await startServer(['--max-model-len', '256',
    '--kv-cache-pages', '160', '--page-size', '16', '--max-num-seqs', '64', '--max-num-batched-tokens', '512',
    '--shutdown-grace', '2']));
});

after(async () => {
  server.kill('SIGTERM');
  assert.equal(await exitCode, 0);
});

// The server's own resident memory (heap, KV pool, stacks): RssAnon. The
// memory-mapped weights are file pages that fill in as routing first reaches
// each expert, which is not growth of the server.
function rssBytes() {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

// After a quiet second the server hands its free heap back (malloc_trim):
// read RSS after that, so it holds what the server keeps, not what a
// finished burst freed a moment ago.
async function idleRssBytes() {
  await new Promise((r) => setTimeout(r, 1500));
  return rssBytes();
}

// One streaming completion read as raw SSE; abortAfter: hang up after that many chunks.
async function stream(i, maxTokens, abortAfter = Infinity) {
  const ac = new AbortController();
  const res = await fetch(baseURL + '/v1/completions', {
    method: 'POST', signal: ac.signal, headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: `Request ${i}: tell me a story about number ${i * 7919 % 1000}.`,
      max_tokens: maxTokens, temperature: 0.8, seed: i, stream: true, logprobs: 0, ignore_eos: true,
      stream_options: { include_usage: true } }),
  });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '', tokens = 0, finish = null, usage = null, done = false, chunks = 0;
  for (;;) {
    const { value, done: eof } = await reader.read();
    if (eof) break;
    buf += decoder.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, at);
      buf = buf.slice(at + 2);
      assert.ok(event.startsWith('data: '), event);
      const data = event.slice(6);
      if (data === '[DONE]') { done = true; continue; }
      assert.ok(!done, 'nothing after [DONE]');
      const j = JSON.parse(data);
      if (j.usage) { usage = j.usage; continue; }
      ++chunks;
      const c = j.choices[0];
      tokens += c.logprobs ? c.logprobs.tokens.length : 0;
      if (c.finish_reason) { assert.equal(finish, null, 'one finish_reason'); finish = c.finish_reason; }
      if (chunks >= abortAfter) { ac.abort(); return { aborted: true }; }
    }
  }
  assert.ok(done, 'stream ends with [DONE]');
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, maxTokens);
  assert.equal(tokens, usage.completion_tokens, 'every token streamed exactly once');
  return { tokens };
}

// Clients that keep streaming requests until the wave's time is up.
async function wave(clients, seconds, abortHalf = false) {
  const until = Date.now() + seconds * 1000;
  let requests = 0, errors = 0;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    while (Date.now() < until) {
      try {
        await stream(c * 1000 + requests, 24, abortHalf && c % 2 ? 3 : Infinity);
        ++requests;
      } catch (e) {
        if (e.name === 'AbortError') continue;
        ++errors;
        throw e;
      }
    }
  }));
  return { requests, errors };
}

async function pagesUsed() {
  const text = await (await fetch(baseURL + '/metrics')).text();
  return Number(/dsinfer_kv_cache_pages_used\{[^}]*\} (\d+)/.exec(text)[1]);
}

test('waves of 64 streaming clients, a disconnect wave, flat memory', { timeout: 600000 }, async () => {
  // Each connection runs on one of the server's 512 HTTP threads, and a
  // thread keeps its stack pages and its malloc cache once it has served a
  // request (heaptrack shows the same live heap after one wave as after
  // five; the growth between is these per-thread caches). So first put
  // every thread to work at once, then run a full and a disconnect wave as
  // the measured ones do: the growth measured below is then memory per
  // request, not first use of threads.
  await Promise.all(Array.from({ length: 512 }, (_, i) => stream(100000 + i, 2)));
  await wave(64, WAVE_SECONDS);
  await wave(64, WAVE_SECONDS, true);
  const w1 = await wave(64, WAVE_SECONDS);
  const rss1 = await idleRssBytes();
  const w2 = await wave(64, WAVE_SECONDS, true);
  const w3 = await wave(64, WAVE_SECONDS);
  const rss3 = await idleRssBytes();
  console.log(`# load: waves ${w1.requests} / ${w2.requests} / ${w3.requests} completed streams; ` +
    `RSS ${(rss1 / 2 ** 20).toFixed(1)} -> ${(rss3 / 2 ** 20).toFixed(1)} MiB`);
  assert.equal(w1.errors + w2.errors + w3.errors, 0);
  assert.ok(w3.requests > 0, 'still serving after the disconnect wave');
  await new Promise((r) => setTimeout(r, 500));  // cancellations take one engine step
  assert.equal(await pagesUsed(), 0);
  assert.ok(rss3 <= rss1 * 1.05, `RSS grew from ${rss1} to ${rss3}`);
});

test('256 streams open at once all finish', { timeout: 600000 }, async () => {
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: 256 }, (_, i) => stream(90000 + i, 4)));
  console.log(`# load: 256 concurrent streams of 4 tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(results.length, 256);
  assert.equal(await pagesUsed(), 0);
});
