#!/usr/bin/env node
// Docker HEALTHCHECK for every role of the one Nabla image (copied to /app/healthcheck.mjs).
// The role is read from the container's main process (PID 1's command line), so no extra variable is needed:
// an unknown NABLA_* variable would be rejected by the CLI's strict option parsing.
// - coordinator (and train): healthy when GET /healthz on its --listen port answers 200 {"ok":true};
// - worker, monitor, anything else: healthy while the container runs (workers have no endpoint; they retry on
//   their own and exit when training ends).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const TIMEOUT_MS = 3000;
const SERVING_COMMANDS = new Set(['coordinator', 'train']);

/** The container's main command line, e.g. ['node', '/app/dist/bin/nabla.js', 'coordinator', '--epochs', '3']. */
function mainCommandLine() {
  try {
    return readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter((part) => part.length > 0);
  } catch {
    return [];
  }
}

/** The value of --name VALUE or --name=VALUE on the command line, else the NABLA_* variable, else undefined. */
function option(argv, name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return process.env[`NABLA_${name.toUpperCase().replaceAll('-', '_')}`];
}

function exit(code, message) {
  process.stdout.write(`${message}\n`);
  process.exit(code);
}

const argv = mainCommandLine();
const script = argv.findIndex((part) => part.endsWith('nabla.js') || part.endsWith('/nabla'));
const command = argv.slice(script + 1).find((part) => !part.startsWith('-'));
if (!SERVING_COMMANDS.has(command)) exit(0, `healthy: ${command ?? 'this process'} serves no health endpoint`);

const listen = option(argv, 'listen') ?? '0.0.0.0:8080';
const match = /^\[?(.*?)\]?:(\d+)$/.exec(listen);
if (!match) exit(1, `unhealthy: cannot read a port from --listen ${listen}`);
const port = Number(match[2]);
if (port === 0) exit(0, 'healthy: --listen port 0 (a random port) cannot be probed');
const host = match[1] === '0.0.0.0' || match[1] === '' ? '127.0.0.1' : match[1] === '::' ? '::1' : match[1];
const isTls = Boolean(option(argv, 'tls-cert'));

const request = (isTls ? https : http).get(
  { host, port, path: '/healthz', timeout: TIMEOUT_MS, rejectUnauthorized: false },
  (response) => {
    let body = '';
    response.setEncoding('utf8').on('data', (chunk) => { body += chunk; }).on('end', () => {
      let isOk = false;
      try {
        isOk = response.statusCode === 200 && JSON.parse(body).ok === true;
      } catch {
        isOk = false;
      }
      exit(isOk ? 0 : 1, `${isOk ? 'healthy' : 'unhealthy'}: /healthz answered ${response.statusCode} ${body.trim()}`);
    });
  },
);
request.on('timeout', () => request.destroy(new Error(`no answer in ${TIMEOUT_MS} ms`)));
request.on('error', (error) => exit(1, `unhealthy: /healthz on ${host}:${port}: ${error.message}`));
