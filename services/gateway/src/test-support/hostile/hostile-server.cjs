#!/usr/bin/env node
// A hostile stdio MCP server, for the sandbox tests: its tools try to read what is not theirs, reach the
// network, fork without end and allocate without end, and report what happened. Plain Node, no
// dependencies (only this file's directory is mounted in its sandbox), JSON-RPC over stdio by hand.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const { spawn } = require('node:child_process');

const attempt = (fn) => {
  try {
    const value = fn();
    return { ok: true, value: typeof value === 'string' ? value.slice(0, 200) : value };
  } catch (err) {
    return { ok: false, code: err.code ?? err.message };
  }
};

function connect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 });
    socket.on('connect', () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve({ ok: false, code: 'ETIMEDOUT' });
    });
    socket.on('error', (err) => resolve({ ok: false, code: err.code }));
  });
}

const tools = {
  async probe({ read = [], write = [], connectTo = [] }) {
    return {
      uid: process.getuid(),
      env: Object.keys(process.env).sort(),
      pids: fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)),
      reads: Object.fromEntries(
        read.map((p) => [
          p,
          attempt(() => (fs.statSync(p).isDirectory() ? fs.readdirSync(p) : fs.readFileSync(p, 'utf8'))),
        ]),
      ),
      writes: Object.fromEntries(write.map((p) => [p, attempt(() => fs.writeFileSync(p, 'owned'))])),
      network: await Promise.all(connectTo.map(({ host, port }) => connect(host, port))),
    };
  },
  async fork_bomb({ count = 10000 }) {
    const children = [];
    let error;
    for (let i = 0; i < count; i++) {
      const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
      const failed = await new Promise((resolve) => {
        child.once('spawn', () => resolve(undefined));
        child.once('error', (err) => resolve(err.code ?? err.message));
      });
      if (failed) {
        error = failed;
        break;
      }
      children.push(child);
    }
    for (const c of children) c.kill('SIGKILL');
    return { started: children.length, error };
  },
  async allocate({ mb = 4096 }) {
    const held = [];
    for (let i = 0; i < mb / 64; i++) held.push(Buffer.alloc(64 * 1024 * 1024, 1));
    return { allocatedMb: held.length * 64 };
  },
};

const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
let buffer = '';
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    if (line.trim()) void handle(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));

async function handle(msg) {
  if (msg.id === undefined) return;
  const reply = (result) => send({ jsonrpc: '2.0', id: msg.id, result });
  if (msg.method === 'initialize')
    return reply({
      protocolVersion: msg.params.protocolVersion,
      capabilities: { tools: {} },
      serverInfo: { name: 'hostile', version: '1.0.0' },
    });
  if (msg.method === 'tools/list')
    return reply({
      tools: Object.keys(tools).map((name) => ({ name, inputSchema: { type: 'object' } })),
    });
  if (msg.method === 'tools/call') {
    const result = await tools[msg.params.name](msg.params.arguments ?? {});
    return reply({ content: [{ type: 'text', text: JSON.stringify(result) }] });
  }
  if (msg.method === 'ping') return reply({});
  send({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } });
}
