import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workerReplies } from '../src/worker-replies.js';

const echoSlowlyFirst = `
const { parentPort } = require('node:worker_threads');
parentPort.postMessage('ready');
parentPort.on('message', (n) => {
  if (n === 'fail') throw new Error('broken');
  const until = Date.now() + (n === 1 ? 50 : 0);
  while (Date.now() < until);
  parentPort.postMessage(n * 10);
});`;

const start = () => workerReplies(new Worker(echoSlowlyFirst, { eval: true }), 'test thread');

describe('requests to a worker thread', () => {
  it('gives each request its own reply, in the order asked, after the message sent unasked', async () => {
    const thread = start();
    expect(await thread.next()).toBe('ready');
    expect(await Promise.all([1, 2, 3].map((n) => thread.request<number>(n)))).toEqual([10, 20, 30]);
    await thread.stop();
  });

  it('fails the requests waiting and every later one, naming the thread, when it fails', async () => {
    const thread = start();
    await thread.next();
    const waiting = thread.request('fail');
    await expect(waiting).rejects.toThrow('the test thread failed: broken');
    await expect(thread.request(1)).rejects.toThrow('the test thread failed: broken');
  });

  it('refuses requests once stopped', async () => {
    const thread = start();
    await thread.next();
    await thread.stop();
    await expect(thread.request(1)).rejects.toThrow('the test thread is stopped');
  });
});
