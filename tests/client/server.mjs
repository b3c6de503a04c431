// Starts `dsinfer serve --port 0 ...` (DSINFER_BINARY) and resolves with its
// base URL once it prints where it listens; `exited` resolves with its exit code.
import { spawn } from 'node:child_process';
import OpenAI from 'openai';

export async function startServer(args, { ranks = 0 } = {}) {
  const bin = process.env.DSINFER_BINARY;
  if (!bin) throw new Error('DSINFER_BINARY must name the dsinfer executable');
  const serve = ['serve', '--port', '0', '--no-pin', ...args];
  // ranks > 0: under a real mpirun (TCP transport; run-as-root allowed for this command only).
  const proc = ranks > 0
    ? spawn('mpirun', ['--oversubscribe', '--bind-to', 'none', '--mca', 'btl', 'tcp,self', '-x', 'OMP_NUM_THREADS=1',
      '-np', String(ranks), bin, ...serve], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' },
    })
    : spawn(bin, serve, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  const baseURL = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + log)), 180000);
    proc.stderr.on('data', (d) => {
      log += d;
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${log}`)); });
  });
  return { proc, baseURL, exited, log: () => log };
}

// One greedy completion through the official client: its text and
// completion-token count (streamed: the chunks joined, usage from the last).
export async function completeGreedy(s, prompt, stream, maxTokens) {
  const c = new OpenAI({ baseURL: s.baseURL + '/v1', apiKey: 'none' });
  const params = { model: 'dsinfer-demo-r1', prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true };
  if (!stream) {
    const r = await c.completions.create(params);
    return { text: r.choices[0].text, tokens: r.usage.completion_tokens };
  }
  const st = await c.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '', tokens = 0;
  for await (const chunk of st) {
    if (chunk.choices.length) text += chunk.choices[0].text;
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  return { text, tokens };
}
