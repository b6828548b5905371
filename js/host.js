// A JavaScript host for the mde-connector component, as transpiled by jco
// (`npm run transpile`): the `http`, `settings` and `log` imports written in
// JavaScript, with `http.send` answering from recorded answers instead of the
// network.
//
// jco's conventions, which any JavaScript host follows:
// - records are objects with camelCase fields, enums are strings, variants are
//   `{ tag, val }`, `option` is `undefined` or the value, `list<u8>` is a
//   Uint8Array, `u64`/`s64` are BigInt;
// - an import returns its `ok` value, and reports its `err` value by throwing an
//   object whose own `payload` property holds it (`TransportFailure` below);
// - an export returns its `ok` value, and throws a `ComponentError` whose
//   `payload` holds the `err` value.

import { readFile } from 'node:fs/promises';
import { instantiate } from './generated/mde_connector.js';

const generated = new URL('./generated/', import.meta.url);
const modules = new Map();

/** Compiles each core module of the transpiled component once. */
function getCoreModule(path) {
  if (!modules.has(path)) {
    modules.set(path, readFile(new URL(path, generated)).then((bytes) => WebAssembly.compile(bytes)));
  }
  return modules.get(path);
}

/** An `http.send` failure, as jco expects an import's `err` value. */
export class TransportFailure extends Error {
  constructor(payload) {
    super(`transport error: ${payload.tag}`);
    this.payload = payload;
  }
}

/**
 * One recorded answer, in the shape `host-test --replay` reads:
 * `{ status, headers: { name: value }, body: string }`.
 */
function toResponse(answer) {
  return {
    status: answer.status,
    headers: Object.entries(answer.headers ?? {}),
    body: new TextEncoder().encode(answer.body ?? ''),
  };
}

/**
 * A fresh instance whose requests are answered, in order, by `answers`
 * (recorded answers, or `TransportFailure`s to throw). Running out of answers
 * is a transport error, as in the Rust host's replay.
 *
 * Returns the component's exports with everything it asked of its host.
 */
export async function connector({ settings, answers = [] }) {
  const requests = [];
  const logs = [];
  const queue = [...answers];
  const interfaces = {
    'mde:connector/http': {
      send(request) {
        requests.push({
          method: request.method,
          url: request.url,
          headers: request.headers.map(([name, value]) => [name, value]),
          body: request.body === undefined ? undefined : new TextDecoder().decode(request.body),
        });
        const next = queue.shift();
        if (next === undefined) {
          throw new TransportFailure({ tag: 'other', val: 'no recorded answer left' });
        }
        if (next instanceof TransportFailure) throw next;
        return toResponse(next);
      },
    },
    'mde:connector/settings': {
      get: () => settings,
    },
    'mde:connector/log': {
      emit(level, event, message) {
        logs.push({ level, event, message });
      },
    },
    'mde:connector/types': {},
  };
  // jco 1.35's generated code looks imports up without their version
  // (`mde:connector/http`) while its .d.ts names them with it
  // (`mde:connector/http@0.2.0`): give both.
  const imports = {};
  for (const [name, value] of Object.entries(interfaces)) {
    imports[name] = value;
    imports[`${name}@0.2.0`] = value;
  }
  const exports = await instantiate(getCoreModule, imports);
  return { exports, requests, logs };
}

/** A request's header, by case-insensitive name. */
export function header(request, name) {
  const found = request.headers.find(([n]) => n.toLowerCase() === name.toLowerCase());
  return found?.[1];
}
