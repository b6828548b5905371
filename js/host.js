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

/** Why `settings.client-assertion` has no assertion: its `err` value. */
export class AssertionRefused extends Error {
  constructor(payload) {
    super(`no client assertion: ${payload}`);
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
    // Recorded bodies are text; the component takes text as it takes bytes.
    body: { tag: 'text', val: answer.body ?? '' },
  };
}

/**
 * A fresh instance whose requests are answered, in order, by `answers`:
 * recorded answers, `TransportFailure`s to throw, or functions of the request
 * that return an answer or throw as a failing host would. The array is
 * consumed, so an instance made again from it continues where the last one
 * stopped. Running out of answers is a transport error, as in the Rust
 * host's replay. `imports` replaces any of the imports below.
 *
 * `clientAssertion(audience)`, when given, answers `settings.client-assertion`
 * (return the assertion, or throw an `AssertionRefused`).
 *
 * Returns the component's exports with everything it asked of its host
 * (`assertions`: the audiences it asked assertions for).
 */
export async function connector({
  settings,
  answers = [],
  clientAssertion,
  imports: replaced = {},
}) {
  const requests = [];
  const logs = [];
  const assertions = [];
  const queue = answers;
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
        // A function answers from the request, or throws as a failing host would.
        return toResponse(typeof next === 'function' ? next(request) : next);
      },
    },
    'mde:connector/settings': {
      get: () => settings,
      // For `client-assertion` auth: the host signs (or reads the federated
      // token); the component only ever gets the assertion. An `err` is
      // thrown as an object whose own `payload` is the reason.
      clientAssertion(audience) {
        assertions.push(audience);
        if (clientAssertion === undefined) {
          throw new AssertionRefused('this host has no client certificate or federated token');
        }
        return clientAssertion(audience);
      },
    },
    'mde:connector/log': {
      emit(level, event, message) {
        logs.push({ level, event, message });
      },
    },
    'mde:connector/types': {},
    ...replaced,
  };
  // jco 1.35's generated code looks imports up without their version
  // (`mde:connector/http`) while its .d.ts names them with it
  // (`mde:connector/http@0.4.0`): give both.
  const imports = {};
  for (const [name, value] of Object.entries(interfaces)) {
    imports[name] = value;
    imports[`${name}@0.4.0`] = value;
  }
  const exports = await instantiate(getCoreModule, imports);
  return { exports, requests, logs, assertions };
}

/** A request's header, by case-insensitive name. */
export function header(request, name) {
  const found = request.headers.find(([n]) => n.toLowerCase() === name.toLowerCase());
  return found?.[1];
}

/** Whether `e` is the component's own `err` answer, as jco throws it. */
export function isComponentError(e) {
  return e?.constructor?.name === 'ComponentError';
}

/**
 * How a host recovers from a trap. In jco, an import that throws anything but
 * its `err` value (a `TransportFailure` above) unwinds through the guest, and
 * a trap does the same: the instance is then poisoned, and every later call
 * on it traps too (`unreachable`, or "cannot enter component instance"). So
 * after any failure other than the component's own `ComponentError`, make a
 * new instance before the next call: it starts afresh (a token it kept is
 * fetched again). `make` creates an instance, for example
 * `() => connector({ settings, answers })`.
 */
export class Recovering {
  static async create(make) {
    const recovering = new Recovering(make);
    recovering.current = await make();
    return recovering;
  }

  constructor(make) {
    this.make = make;
  }

  /** `fn(exports)`, on an instance that a failed call never poisons. */
  async call(fn) {
    try {
      return fn(this.current.exports);
    } catch (e) {
      if (!isComponentError(e)) {
        this.current = await this.make();
      }
      throw e;
    }
  }
}
